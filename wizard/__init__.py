from . import (
    ops_job_diagnosis_correct,
    ops_job_log_paste,
    ops_migration_dry_run_wizard,
    ops_scan_launch_wizard,
    ops_scan_suppress_wizard,
)
