import threading
import time
import uuid

from psycopg2 import errors

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import SQL


def results_or(errors):
    return "; ".join(f"{type(e).__name__}: {e}" for e in errors) or "no error"


@tagged("post_install", "-at_install")
class TestIncidentDedupConcurrency(BaseCase):
    """Two transactions raising the same key at once still leave one open incident.

    Real, separately committed transactions (not the test's own): the
    second insert waits on the partial unique index until the first commits,
    then fails to serialize; Odoo's retry (``odoo.service.model.retrying``,
    what requests and crons rely on) runs it again and it counts the repeat.
    The test thread retries the same way (rollback, try again).
    """

    def setUp(self):
        super().setUp()
        self.dbname = get_db_name()
        self.key = f"test:concurrency:{uuid.uuid4()}"
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with sql_db.db_connect(self.dbname).cursor() as cr:
            cr.execute(SQL("SELECT id FROM ops_incident WHERE dedup_key = %s", self.key))
            ids = [row[0] for row in cr.fetchall()]
            if ids:
                cr.execute(SQL("DELETE FROM mail_message WHERE model = 'ops.incident' AND res_id = ANY(%s)", ids))
                cr.execute(SQL("DELETE FROM mail_followers WHERE res_model = 'ops.incident' AND res_id = ANY(%s)", ids))
                cr.execute(SQL("DELETE FROM ops_incident WHERE id = ANY(%s)", ids))

    def _raise(self, env):
        return env["ops.incident"]._raise_incident({"dedup_key": self.key, "title": "race", "source": "ci"}).id

    def _retrying(self, env, results):
        """What ``odoo.service.model.retrying`` does for requests and crons (it cannot run in a test thread:
        it reloads the registry, which the test runner holds)."""
        for _attempt in range(3):
            try:
                incident_id = self._raise(env)
                env.cr.flush()
                return incident_id
            except errors.SerializationFailure:
                results["serialization_failures"] = results.get("serialization_failures", 0) + 1
                env.cr.rollback()
                env.invalidate_all(flush=False)
        raise AssertionError("still failing after 3 tries")

    def test_two_concurrent_raises_leave_one_incident_counted_twice(self):
        results, errors = {}, []
        first_cr = sql_db.db_connect(self.dbname).cursor()
        try:
            first = api.Environment(first_cr, SUPERUSER_ID, {})
            results["first"] = self._raise(first)
            first_cr.flush()

            # the registry is locked by the test runner's thread: make the environment here
            second_cr = sql_db.db_connect(self.dbname).cursor()
            second_env = api.Environment(second_cr, SUPERUSER_ID, {})

            def second():
                try:
                    with second_cr:
                        results["second"] = self._retrying(second_env, results)
                except Exception as exc:  # reported to the main thread
                    errors.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            self._wait_until_blocked(first_cr, thread, errors)
            first_cr.commit()
        finally:
            first_cr.close()
        thread.join(60)
        self.assertFalse(thread.is_alive())
        self.assertFalse(errors, errors)
        self.assertEqual(results["first"], results["second"])
        self.assertEqual(results.get("serialization_failures"), 1, "the loser's first try failed cleanly")
        with sql_db.db_connect(self.dbname).cursor() as cr:
            cr.execute(SQL("SELECT count(*), max(count) FROM ops_incident WHERE dedup_key = %s", self.key))
            self.assertEqual(cr.fetchone(), (1, 2))

    def _wait_until_blocked(self, cr, thread, errors, timeout=30):
        """Wait until another backend waits for a lock held by ``cr``'s transaction."""
        cr.execute("SELECT pg_backend_pid()")
        [pid] = cr.fetchone()
        deadline = time.monotonic() + timeout
        with sql_db.db_connect(self.dbname).cursor() as watcher:
            while time.monotonic() < deadline:
                watcher.execute(SQL("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", pid))
                if watcher.fetchone()[0]:
                    return
                if not thread.is_alive():
                    self.fail(f"the second transaction ended without waiting: {results_or(errors)}")
                watcher.rollback()
                time.sleep(0.05)
        self.fail("the second transaction never waited for the first one")
