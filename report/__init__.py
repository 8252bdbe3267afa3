from . import ops_health_report, ops_license_report
