import base64
import logging
import threading
from datetime import datetime, timezone

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..autopilot.selfheal import classifier

_logger = logging.getLogger(__name__)

#: loaded models per process: (database, record id, write_date) -> TrainedModel
_LOADED = {}
_LOADED_LOCK = threading.Lock()
_KEEP_MODELS = 5
#: set by "Retrain now": the retraining cron trains at its next run even without new reviews
RETRAIN_REQUEST_PARAM = "ops_autopilot.classifier_retrain_requested"


class OpsClassifierModel(models.Model):
    """A trained failure classifier (TF-IDF + logistic regression) with its cross-validated quality.

    Trained from the corpus shipped with the addon plus every diagnosis ops
    staff confirmed or corrected; the newest active model diagnoses new
    failures as soon as it is saved. The bytes are the engine's own format
    (:meth:`autopilot.selfheal.classifier.TrainedModel.to_bytes`): only models this
    addon wrote are ever loaded.
    """

    _name = "ops.classifier.model"
    _description = "CI Failure Classifier"
    _order = "trained_at desc, id desc"

    name = fields.Char(required=True, readonly=True)
    active = fields.Boolean(default=True)
    model_data = fields.Binary(string="Model", readonly=True, attachment=True, groups="base.group_system")
    trained_at = fields.Datetime(readonly=True, index=True)
    train_seconds = fields.Float(string="Training time (s)", readonly=True, digits=(16, 1))
    corpus_size = fields.Integer(string="Shipped examples", readonly=True)
    feedback_size = fields.Integer(string="Reviewed diagnoses", readonly=True)
    example_count = fields.Integer(string="Examples", readonly=True)
    folds = fields.Integer(string="Cross-validation folds", readonly=True)
    accuracy = fields.Float(readonly=True, digits=(16, 3))
    macro_f1 = fields.Float(string="Macro F-score", readonly=True, digits=(16, 3))
    confident_accuracy = fields.Float(
        readonly=True, digits=(16, 3), help="Accuracy of the predictions made with a probability of at least 0.85"
    )
    confident_share = fields.Float(readonly=True, digits=(16, 3))
    metrics = fields.Json(readonly=True, help="Per category precision, recall, F1 and support (cross-validated)")
    metrics_html = fields.Html(compute="_compute_metrics_html", sanitize=False)
    sklearn_version = fields.Char(string="scikit-learn", readonly=True)

    @api.depends("metrics")
    def _compute_metrics_html(self):
        for record in self:
            rows = [
                {
                    "category": category.replace("_", " "),
                    "precision": f"{values.get('precision', 0):.2f}",
                    "recall": f"{values.get('recall', 0):.2f}",
                    "f1": f"{values.get('f1', 0):.2f}",
                    "support": values.get("support", 0),
                }
                for category, values in sorted((record.metrics or {}).items())
                if isinstance(values, dict)
            ]
            # rendered with t-esc: every value is escaped
            record.metrics_html = self.env["ir.qweb"]._render(
                "ops_autopilot.ops_classifier_metrics_table", {"rows": rows}
            )

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_retrain(self):
        """Queue a retraining: it takes a while (cross-validation), so the cron does it, not the request."""
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise UserError(_("Only Ops managers can retrain the classifier."))
        self.env["ir.config_parameter"].sudo().set_param(
            RETRAIN_REQUEST_PARAM, fields.Datetime.to_string(fields.Datetime.now())
        )
        self.env.ref("ops_autopilot.ir_cron_retrain_classifier").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Retraining queued"),
                "message": _("The new model appears under Classifier models when the retraining cron has run."),
                "type": "info",
            },
        }

    # ------------------------------------------------------------------
    # training and loading
    # ------------------------------------------------------------------
    @api.model
    def _train(self):
        """Train on the shipped corpus + reviewed diagnoses, store the model, make it the current one."""
        corpus = classifier.training_corpus()
        feedback = self.env["ops.job.diagnosis"]._training_examples()
        # the patterns' examples (managers' own too) teach the model their vocabulary; never scored
        trained = classifier.train(
            corpus + feedback, metrics=True, rules=self.env["ops.failure.pattern"]._engine_rules()
        )
        scores = trained.metrics
        record = self.sudo().create(
            {
                "name": _("Classifier of %s", fields.Datetime.to_string(fields.Datetime.now())),
                "model_data": base64.b64encode(trained.to_bytes()),
                "trained_at": datetime.fromtimestamp(trained.trained_at, timezone.utc).replace(tzinfo=None),
                "train_seconds": trained.train_seconds,
                "corpus_size": len(corpus),
                "feedback_size": len(feedback),
                "example_count": trained.n_examples,
                "folds": scores.folds if scores else 0,
                "accuracy": scores.accuracy if scores else 0.0,
                "macro_f1": scores.macro_f1 if scores else 0.0,
                "confident_accuracy": (scores.confident_accuracy or 0.0) if scores else 0.0,
                "confident_share": scores.confident_share if scores else 0.0,
                "metrics": scores.per_category if scores else {},
                "sklearn_version": trained.sklearn_version,
            }
        )
        _remember(self.env.cr.dbname, record, trained)
        old = (
            self.sudo()
            .with_context(active_test=False)
            .search([("id", "!=", record.id)], order="trained_at desc, id desc")
        )
        old.filtered("active").write({"active": False})
        old[_KEEP_MODELS - 1 :].unlink()
        _logger.info(
            "classifier retrained on %s examples (%s reviewed) in %.1f s",
            trained.n_examples,
            len(feedback),
            trained.train_seconds,
        )
        return record

    @api.model
    def _current(self):
        """The newest active model (``TrainedModel``), or None to let the engine use its shipped default."""
        record = self.sudo().search([], order="trained_at desc, id desc", limit=1)
        if not record:
            return None
        key = (self.env.cr.dbname, record.id, fields.Datetime.to_string(record.write_date))
        cached = _LOADED.get(key)
        if cached is not None:
            return cached
        try:
            trained = classifier.TrainedModel.from_bytes(base64.b64decode(record.model_data or b""))
        except classifier.ModelFormatError as exc:
            _logger.warning("classifier model %s cannot be loaded (%s): using the shipped default", record.id, exc)
            return None
        _remember(self.env.cr.dbname, record, trained)
        return trained

    @api.model
    def _cron_retrain(self, force=False):
        """Retrain when diagnoses were reviewed since the last model, a manager asked, or there is none yet."""
        params = self.env["ir.config_parameter"].sudo()
        requested = params.get_param(RETRAIN_REQUEST_PARAM)
        last = self.sudo().search([], order="trained_at desc, id desc", limit=1)
        if last and not force and not requested:
            domain = [("confirmed_category", "!=", False), ("feedback_at", ">", last.trained_at)]
            if not self.env["ops.job.diagnosis"].sudo().search_count(domain, limit=1):
                return False
        self._train()
        if requested:
            params.set_param(RETRAIN_REQUEST_PARAM, False)
        return True


def _remember(dbname, record, trained):
    key = (dbname, record.id, fields.Datetime.to_string(record.write_date))
    with _LOADED_LOCK:
        for old in [k for k in _LOADED if k[0] == dbname]:
            del _LOADED[old]
        _LOADED[key] = trained
