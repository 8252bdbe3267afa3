from . import (
    ir_http,
    ops_change_file,
    ops_cron_mixin,
    ops_pull_request,
    ops_push,
    ops_repository,
    ops_webhook_delivery,
    ops_workflow_job,
    ops_workflow_run,
    res_config_settings,
)
