import hashlib
from datetime import timedelta

from odoo import api, fields, models

from ..autopilot.github import events

#: the demo's commits, oldest first: (message, author, hours before now)
DEMO_COMMITS = [
    ("Add customer portal invoices (#301)", "alice", 690),
    ("Fix rounding of VAT lines (#302)", "bob", 640),
    ("Speed up stock report (#305)", "carol", 560),
    ("Upgrade requests to 2.32 (#306)", "dependabot[bot]", 520),
    ("Add CSV export of payments (#308)", "alice", 470),
    ("Fix timezone of delivery slots (#309)", "bob", 400),
    ("Refactor partner merge (#311)", "carol", 330),
    ("Add sales dashboard filters (#312)", "alice", 300),
    ("Cache pricelist lookups (#314)", "carol", 260),
    ("Fix crash on empty pricelist (#316)", "bob", 200),
    ("Add purchase approval rule (#318)", "alice", 130),
    ("Translate invoice emails (#319)", "dave", 100),
    ("Log slow RPC calls (#321)", "carol", 40),
    ("Fix portal pager (#322)", "bob", 20),
]
#: deployments, oldest first: (environment, index of the last commit it runs, hours before now, final state,
#: creator); production follows staging a day or so later, one production deploy fails and is rolled back
DEMO_DEPLOYMENTS = [
    ("staging", 0, 680, "success", "alice"),
    ("production", 0, 650, "success", "alice"),
    ("staging", 2, 550, "success", "carol"),
    ("staging", 4, 460, "success", "alice"),
    ("production", 4, 430, "success", "alice"),
    ("staging", 6, 320, "success", "carol"),
    ("staging", 7, 290, "success", "alice"),
    ("production", 7, 270, "success", "carol"),
    ("staging", 9, 190, "success", "bob"),
    ("production", 9, 170, "failure", "bob"),
    ("production", 7, 168, "success", "bob"),  # rollback
    ("staging", 11, 90, "success", "dave"),
    ("production", 11, 70, "success", "dave"),
    ("staging", 13, 10, "success", "bob"),
]


def _demo_sha(index):
    return hashlib.sha1(f"ops-autopilot-demo-commit-{index}".encode()).hexdigest()  # a made-up commit id


class OpsDeployment(models.Model):
    """Demo deployments recorded through the same code as GitHub's webhooks."""

    _inherit = "ops.deployment"

    @api.model
    def _demo_history(self, repository_id):
        """Staging and production of ``repository_id`` over four weeks: GitHub-shaped events fed to the ingest.

        The commits each deployment brought are written as the compare cron
        would (the demo repository has no token to ask GitHub with).
        """
        repository = self.env["ops.repository"].browse(repository_id)
        now = fields.Datetime.now()
        html = f"https://github.com/{repository.full_name}"
        commits = [
            {
                "sha": _demo_sha(index),
                "message": message,
                "author": author,
                "committed_at": now - timedelta(hours=hours),
                "pull_request_numbers": message.rsplit("(#", 1)[1].rstrip(")"),
                "html_url": f"{html}/commit/{_demo_sha(index)}",
            }
            for index, (message, author, hours) in enumerate(DEMO_COMMITS)
        ]
        last_index = {}
        recorded = self.browse()
        for number, (environment, index, hours, state, creator) in enumerate(DEMO_DEPLOYMENTS, start=1):
            created = now - timedelta(hours=hours)
            deployment = events.Deployment(
                github_id=4_200_000_000 + number,
                sha=_demo_sha(index),
                ref="main",
                task="deploy",
                environment=environment,
                original_environment=environment,
                description=f"Deploy {DEMO_COMMITS[index][0].split(' (#')[0].lower()}",
                creator=creator,
                created_at=created,
                updated_at=created,
                production_environment=environment == "production",
            )
            for step, (status, minutes) in enumerate((("in_progress", 1), (state, 7 if state == "success" else 4))):
                status_event = events.DeploymentStatus(
                    github_id=4_300_000_000 + number * 10 + step,
                    state=status,
                    description="",
                    environment=environment,
                    environment_url=f"https://{environment}.erp.example.com",
                    log_url=f"{html}/actions/runs/{9_200_000_000 + number}",
                    creator="github-actions[bot]",
                    created_at=created + timedelta(minutes=minutes),
                )
                record = self._ingest_event(repository, events.DeploymentEvent(deployment, status_event))
            recorded |= record
            if state != "success":
                continue
            previous = last_index.get(environment)
            brought = commits[previous + 1 : index + 1] if previous is not None else []
            record.commit_ids.unlink()
            self.env["ops.deployment.commit"].create(
                [{"deployment_id": record.id, "sequence": n, **commit} for n, commit in enumerate(brought)]
            )
            record.write({"commits_state": "done", "previous_deployment_id": record._previous_success().id})
            last_index[environment] = index
        return recorded.ids
