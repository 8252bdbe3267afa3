from . import ir_actions_report, ops_health_report, ops_license_report
