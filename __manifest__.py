{
    "name": "Ops Autopilot",
    "summary": "CI/CD and production health of GitHub-hosted Odoo projects, run from Odoo",
    "version": "18.0.1.0.0",
    "category": "Productivity",
    "author": "ops_autopilot contributors",
    "license": "LGPL-3",
    "application": True,
    "depends": ["base", "mail", "web", "bus"],
    "external_dependencies": {
        "python": [
            "requests>=2.25",
            "PyGithub>=2.9,<3",
            "anthropic>=0.40",
            "scikit-learn>=1.3",
            "psutil>=5.9",
            "lxml>=4.6",
            "packaging>=21",
            "numpy>=1.21",
            "scipy>=1.7",
            "vulture>=2.10",
            "regex>=2022.1",
            'tomli>=1.1; python_version < "3.11"',
        ]
    },
    "data": [
        "security/ops_autopilot_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/ops_repository_views.xml",
        "views/ops_webhook_delivery_views.xml",
        "views/ops_workflow_run_views.xml",
        "views/ops_workflow_job_views.xml",
        "views/ops_push_views.xml",
        "views/ops_pull_request_views.xml",
        "views/res_config_settings_views.xml",
        "views/ops_autopilot_menus.xml",
    ],
    "demo": [
        "demo/ops_repository_demo.xml",
        "demo/ops_workflow_run_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "ops_autopilot/static/src/**/*",
        ],
        "web.assets_tests": [
            "ops_autopilot/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
