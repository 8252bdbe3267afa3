"""A local PagerDuty Events API v2 endpoint (and a generic webhook receiver) for paging tests.

``POST /v2/enqueue`` validates events the way PagerDuty documents them and
answers ``202 {"status": "success", "message": "Event processed",
"dedup_key": ...}``, or ``400 {"status": "invalid event", "message": "Event
object is invalid", "errors": [...]}``. Accepted events are in
:attr:`FakePagerDuty.events`; :attr:`FakePagerDuty.alerts` holds each dedup
key's state (triggered / acknowledged / resolved). Faults (429 throttling,
500) come from :meth:`RoutedServer.fail_next`, e.g.::

    pd.fail_next(status=429, body=FakePagerDuty.THROTTLED, headers={"Retry-After": "30"})

``POST /hook`` records any JSON body in :attr:`FakePagerDuty.webhooks` and
answers 200 ``ok`` like a Slack incoming webhook.
"""

import uuid
from typing import ClassVar

from .http_server import Response, RoutedServer

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


class FakePagerDuty(RoutedServer):
    THROTTLED: ClassVar[dict] = {
        "status": "throttle event",
        "message": "Requests for this service are arriving too quickly.",
    }

    def __init__(self, routing_key=None):
        super().__init__()
        #: when set, other routing keys are refused (PagerDuty answers 400 for an unknown key)
        self.routing_key = routing_key
        self.events = []
        self.alerts = {}
        self.webhooks = []
        self.route("POST", r"/v2/enqueue", self._enqueue)
        self.route("POST", r"/hook", self._hook)

    def reset(self):
        """Forget events, alerts, webhooks, recorded requests and pending faults (a shared server)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self.events.clear()
            self.alerts.clear()
            self.webhooks.clear()

    @property
    def events_url(self):
        return f"{self.url}/v2/enqueue"

    @staticmethod
    def _errors(event):
        errors = []
        if not isinstance(event, dict):
            return ["Event object is not a JSON object"]
        if not isinstance(event.get("routing_key"), str) or not event["routing_key"].strip():
            errors.append("'routing_key' is missing or blank")
        action = event.get("event_action")
        if action not in ACTIONS:
            errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
        key = event.get("dedup_key")
        if key is not None and (not isinstance(key, str) or len(key) > 255):
            errors.append("'dedup_key' must be a string of at most 255 characters")
        if action in ("acknowledge", "resolve") and not key:
            errors.append("'dedup_key' is required for acknowledge and resolve")
        if action == "trigger":
            payload = event.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing or not an object")
            else:
                if not isinstance(payload.get("summary"), str) or not payload["summary"].strip():
                    errors.append("'payload.summary' is missing or blank")
                elif len(payload["summary"]) > 1024:
                    errors.append("'payload.summary' is longer than 1024 characters")
                if not isinstance(payload.get("source"), str) or not payload["source"].strip():
                    errors.append("'payload.source' is missing or blank")
                if payload.get("severity") not in SEVERITIES:
                    errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
        return errors

    def _enqueue(self, request):
        try:
            event = request.json()
        except ValueError:
            return Response(400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["JSON"]})
        errors = self._errors(event)
        if not errors and self.routing_key and event["routing_key"] != self.routing_key:
            errors.append("Invalid routing key")
        if errors:
            return Response(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
        key = event.get("dedup_key") or uuid.uuid4().hex
        with self._lock:
            self.events.append(event)
            # as PagerDuty: a trigger on an open alert only adds to it; ack/resolve of a closed one do nothing
            current, action = self.alerts.get(key), event["event_action"]
            if action == "trigger" and current in (None, "resolved"):
                self.alerts[key] = "triggered"
            elif action == "acknowledge" and current == "triggered":
                self.alerts[key] = "acknowledged"
            elif action == "resolve" and current in ("triggered", "acknowledged"):
                self.alerts[key] = "resolved"
        return Response(202, {"status": "success", "message": "Event processed", "dedup_key": key})

    def _hook(self, request):
        with self._lock:
            self.webhooks.append(request.json())
        return Response(200, b"ok", {"Content-Type": "text/plain"})
