"""The metadata schema as SQLAlchemy tables; Alembic migrations create exactly these.

Event times are stored as canonical UTC text (`2026-11-25T08:25:38.123456Z`): fixed width, so
they sort and compare as text on every database, and they are the very bytes that were hashed,
so no database time type can round them differently from what the chain sealed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# On SQLite an INTEGER PRIMARY KEY is the rowid: appends and range reads by position are fastest.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", Position, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False, unique=True),
    Column("type", String(100), nullable=False, index=True),
    Column("occurred_at", String(27), nullable=False, index=True),
    Column("recorded_at", String(27), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("subject", String(300), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

# --- the semantic contract: sources, feature definitions, approvals ----------------------

feature_sources = Table(
    "feature_sources",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("spec", Text, nullable=False),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", String(27), nullable=False),
)

feature_definitions = Table(
    "feature_definitions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", String(40), primary_key=True),
    Column("major", Integer, nullable=False),
    Column("minor", Integer, nullable=False),
    Column("patch", Integer, nullable=False),
    Column("concept", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("origin", String(20), nullable=False),
    Column("spec", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("proposed_by", String(200), nullable=False),
    Column("proposed_at", String(27), nullable=False),
    Column("status_changed_at", String(27), nullable=False),
)

feature_approvals = Table(
    "feature_approvals",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", String(40), primary_key=True),
    Column("team", String(100), primary_key=True),
    Column("person", String(200), nullable=False),
    Column("approved_at", String(27), nullable=False),
    Column("rationale", Text, nullable=False),
)

served_features = Table(
    "served_features",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("served_at", String(27), nullable=False),
    Column("entity", String(200), nullable=False),
    Column("feature", String(160), nullable=False),
    Column("value", Text, nullable=True),
    Column("as_of", String(27), nullable=True),
    Column("status", String(10), nullable=False),
)
"""Every served feature value that was asked to be logged, for the skew report, until a seal
moves it into a served segment (`served_segments`). Its id is its position and never goes
back: a seal never moves the row of the largest id, so SQLite (the largest rowid plus one)
like PostgreSQL (a sequence) gives every new value an id above every sealed one. No
secondary index: the serving path writes a row per value served, and its reads (skew,
serving figures, the seal) scan what is not sealed yet.
"""

# The model registry (value contract). JSON documents are stored as canonical text; the
# promotion gate re-reads the contract from `impact`, which no version is stored without.
registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("created_at", String(27), nullable=False),
    Column("frozen_reason", Text, nullable=True),
    Column("frozen_by", String(200), nullable=True),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("artifact_kind", String(20), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("artifact_sha256", String(64), nullable=True),
    Column("features", Text, nullable=False),
    # The pinned feature names in the order the model takes them (JSON); NULL: the pins' order.
    Column("inputs", Text, nullable=True),
    Column("training_data", String(300), nullable=False),
    Column("offline_metrics", Text, nullable=False),
    Column("impact", Text, nullable=False),
    Column("evidence", Text, nullable=True),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", String(27), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("production_seq", BigInteger, nullable=True),
    Column("rolled_back", Boolean, nullable=False),
    # The request-time inputs each request gives (JSON list of declarations); NULL: none.
    Column("request_inputs", Text, nullable=True),
    PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
)
# At most one production version per model, even for a writer that skipped the lock.
Index(
    "uq_model_versions_one_production",
    model_versions.c.name,
    unique=True,
    sqlite_where=model_versions.c.stage == "production",
    postgresql_where=model_versions.c.stage == "production",
)

business_observations = Table(
    "business_observations",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("metric", String(200), nullable=False),
    Column("value", Float, nullable=False),
    Column("period", String(100), nullable=False),
    Column("observed_at", String(27), nullable=False),
    Column("observed_by", String(200), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Index("ix_business_observations_name_version", "name", "version"),
)

# Validity contract (drift monitoring). Times are canonical UTC text like the events'.

monitoring_profiles = Table(
    "monitoring_profiles",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("version", String(100), primary_key=True),
    Column("created_at", String(27), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("profile", Text, nullable=False),
)
"""One reference profile per model version (JSON, see `lucid.monitoring.profiles`)."""

monitoring_runs = Table(
    "monitoring_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("window_key", String(200), nullable=False),
    Column("measured_at", String(27), nullable=False),
    Column("level", String(20), nullable=False),
    Column("actions", Text, nullable=False),
    Column("policy", Text, nullable=False),
    Column("followed_up_at", String(27)),
    UniqueConstraint("model", "window_key", name="uq_monitoring_runs_model_window_key"),
)
"""One run per (model, window): a second run of the same window returns the first.
`followed_up_at` stays NULL until its alerts, actions and incident were all taken."""

monitoring_checks = Table(
    "monitoring_checks",
    metadata,
    Column(
        "run_id",
        String(36),
        ForeignKey("monitoring_runs.id", name="fk_monitoring_checks_run_id"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("threshold", String(300), nullable=False),
    Column("drift_type", String(20), nullable=False),
    Column("metric", String(50), nullable=False),
    Column("feature", String(200)),
    Column("segment", String(300)),
    Column("value", Double),
    Column("level", String(20), nullable=False),
    Column("warning", Double, nullable=False),
    Column("critical", Double, nullable=False),
    Column("reference_rows", BigInteger),
    Column("current_rows", BigInteger),
    Column("expected_no_drift", Double),
    Column("actions", Text, nullable=False),
    Column("note", Text),
    Column("pvalue", Double),
    Column("adjusted_pvalue", Double),
    Column("details", Text),
)
"""Every check of a run: its value, its level and the actions it asked for."""

# The learning loop: A/B experiments, deployments as decisions and their checkpoints.

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("model", String(100), nullable=False),
    Column("control_version", Integer, nullable=False),
    Column("challenger_version", Integer, nullable=False),
    Column("design", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("concluded_at", String(27)),
    Column("decision", String(30)),
    Column("evidence", Text),
)
"""One row per experiment: its design (JSON, see `Design.to_dict`), running or concluded."""

experiment_exposures = Table(
    "experiment_exposures",
    metadata,
    Column("experiment_id", String(100), primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("arm", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("exposed_at", String(27), nullable=False),
    Column("covariate", Double, nullable=True),
)
"""An entity's first exposure in an experiment; later exposures of the same entity add nothing.
`covariate` is the entity's pre-period value (CUPED), when known."""

experiment_outcomes = Table(
    "experiment_outcomes",
    metadata,
    Column("experiment_id", String(100), primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("metric", String(200), primary_key=True),
    Column("value", Double, nullable=False),
    Column("observed_at", String(27), nullable=False),
)
"""One outcome per (experiment, entity, metric): a finite number (0/1 for a binary metric)."""

shadow_comparisons = Table(
    "shadow_comparisons",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("model", String(100), nullable=False),
    Column("control_version", Integer),
    Column("challenger_version", Integer, nullable=False),
    Column("design", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("concluded_at", String(27)),
    Column("evidence", Text),
    Index("ix_shadow_comparisons_model", "model", "status"),
)
"""One row per shadow comparison: its design (JSON, see `ShadowDesign.to_dict`); a null
control version means no version served production ("no model")."""

shadow_scores = Table(
    "shadow_scores",
    metadata,
    Column("comparison_id", String(100), primary_key=True),
    Column("prediction_id", String(64), primary_key=True),
    Column("score", Double, nullable=False),
)
"""The challenger's score of one production prediction; the outcome stays on the production
prediction (`outcome_log`), whatever path logged it."""

deployments = Table(
    "deployments",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("model", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("deployed_at", String(27), nullable=False),
    Column("deployed_by", String(200), nullable=False),
    Column("hypotheses", Text, nullable=False),
    Column("success_criteria", Text, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Index("ix_deployments_model", "model"),
)

deployment_checkpoints = Table(
    "deployment_checkpoints",
    metadata,
    Column(
        "deployment_id",
        Position,
        ForeignKey("deployments.id", name="fk_deployment_checkpoints_deployment_id"),
        primary_key=True,
    ),
    Column("days", Integer, primary_key=True, autoincrement=False),
    Column("due_at", String(27), nullable=False),
    Column("evaluated_at", String(27)),
    Column("outcome", String(20)),
    Column("verdict", Text),
    Column("event_seq", BigInteger),
    Index("ix_deployment_checkpoints_due_at", "due_at"),
)
"""A deployment's checkpoints; `evaluated_at` is null until `lucid checkpoints run` judged it."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("person", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("teams", Text, nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", String(27), nullable=True),
)
"""API tokens, stored as the SHA-256 of their secret; a revoked token is kept, never deleted."""

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("token_id", String(32), nullable=False, index=True),
    Column("person", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("last_seen_at", String(27), nullable=False),
    Column("expires_at", String(27), nullable=False),
    Column("revoked_at", String(27), nullable=True),
)
"""Signed-in dashboard sessions, stored as the SHA-256 of their id; signing out (or revoking
the token) sets `revoked_at`, and the row is kept as the record of the sign-in."""

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", Text, nullable=False),
    Column("event_types", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("cursor", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("removed_at", String(27), nullable=True),
)
"""Event subscriptions: where to POST which event types, signed with the shared secret;
`cursor` is the position of the last event delivered."""

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("subscription_id", String(32), nullable=False, index=True),
    Column("event_seq", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempted_at", String(27), nullable=False),
)
"""Every delivery attempt, successful or not: nothing is dropped silently."""

# Prediction and outcome logs, stored policies, alerts and incidents (validity contract, 0006).

prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("entity", String(200), nullable=False),
    Column("served_at", String(27), nullable=False),
    Column("features", Text, nullable=False),
    Column("score", Double, nullable=False),
    Column("arm", String(100)),
    Index("ix_prediction_log_model_served_at", "model", "served_at"),
    Index("ix_prediction_log_model_entity", "model", "entity", "served_at"),
)
"""Every prediction served: feature values as canonical JSON, the score P(label = 1)."""

outcome_log = Table(
    "outcome_log",
    metadata,
    Column("prediction_id", String(64), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("label", Integer, nullable=False),
    Column("observed_at", String(27), nullable=False),
    Column("logged_at", String(27), nullable=False),
)
"""One outcome (label 0/1) per prediction, joined when it was logged."""

prediction_segments = Table(
    "prediction_segments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    Column("path", String(500), nullable=False, unique=True),
    Column("rows", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("first_served_at", String(27), nullable=False),
    Column("last_served_at", String(27), nullable=False),
    Column("created_at", String(27), nullable=False),
    Index("ix_prediction_segments_model", "model", "day"),
)
"""Each closed Parquet segment of the columnar prediction log (one model, one UTC day): its
path under the log's folder, rows, SHA-256 and served-at range. A file is part of the log
once its row is committed; a file without one is an orphan and never read."""

served_segments = Table(
    "served_segments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("day", String(10), nullable=False),
    Column("path", String(500), nullable=False, unique=True),
    Column("rows", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("first_id", Position, nullable=False),
    Column("last_id", Position, nullable=False),
    Column("first_served_at", String(27), nullable=False),
    Column("last_served_at", String(27), nullable=False),
    Column("created_at", String(27), nullable=False),
    Index("ix_served_segments_last_id", "last_id"),
)
"""Each closed Parquet segment of served feature values (one UTC day of serving): its path
under the prediction log's folder, rows, SHA-256, id range and served-at range; read once its
row is committed, like a prediction segment."""

outcome_segments = Table(
    "outcome_segments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    Column("path", String(500), nullable=False, unique=True),
    Column("rows", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("first_logged_at", String(27), nullable=False),
    Column("last_logged_at", String(27), nullable=False),
    Column("created_at", String(27), nullable=False),
    Index("ix_outcome_segments_model", "model", "day"),
)
"""Each closed Parquet segment of the outcome log (one model, one UTC day of logging): its
path under the log's folder, rows, SHA-256 and logged-at range; read once its row is
committed, like a prediction segment."""

monitoring_policies = Table(
    "monitoring_policies",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("policy", Text, nullable=False),
    Column("updated_at", String(27), nullable=False),
    Column("updated_by", String(200), nullable=False),
)
"""The current monitoring policy of a model (its history is in the event log)."""

monitoring_alerts = Table(
    "monitoring_alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("target", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("step", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("runbooks", Text, nullable=False),
    Column("raised_at", String(27), nullable=False),
    Column("stepped_at", String(27), nullable=False),
    Column("acknowledged_at", String(27)),
    Column("acknowledged_by", String(200)),
    Index("ix_monitoring_alerts_model", "model"),
)
"""Alerts raised by runs; `step` 0 warning, 1 critical, 2 escalated (see `alerts.py`)."""

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("alert_id", String(36), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("step", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", String(27), nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_alert_deliveries_alert_id", "alert_id"),
)
"""Every delivery attempt of an alert to a channel, failed ones included."""

monitoring_incidents = Table(
    "monitoring_incidents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("level", String(20), nullable=False),
    Column("opened_at", String(27), nullable=False),
    Column("window_start", String(27), nullable=False),
    Column("last_run_id", String(36)),
    Column("recovered_at", String(27)),
    # The learning loop's lifecycle (0010): see lucid.contracts.incidents.
    Column("summary", Text),
    Column("opened_by", String(200)),
    Column("acknowledged_by", String(200)),
    Column("acknowledged_at", String(27)),
    Column("root_cause", String(40)),
    Column("diagnosis", Text),
    Column("participants", Text),
    Column("proposals", Text),
    Column("experiment_id", String(100)),
    Column("resolution", Text),
    Column("lesson", Text),
    Column("closed_at", String(27)),
    Column("repeated_of", String(36)),
    Index("ix_monitoring_incidents_model", "model"),
)
"""Incidents opened by non-OK runs or by hand; their lifecycle ends at `closed` (lesson
required); `recovered_at` is when monitoring saw the metric back (JSON lists in text)."""

monitoring_followups = Table(
    "monitoring_followups",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("step", String(100), primary_key=True),
    Column("outcome", String(20), nullable=False),
    Column("done_at", String(27), nullable=False),
)
"""The follow-up steps of a run already taken (an action, the incident), each written in the
transaction of the step itself: a resumed run never takes one twice."""

monitoring_digests = Table(
    "monitoring_digests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("period", String(200), nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("content", Text, nullable=False),
    Column("sent_at", String(27)),
    UniqueConstraint("model", "period", name="uq_monitoring_digests_model_period"),
)
"""One stakeholder digest per (model, reporting period); `sent_at` NULL while deliveries are
pending."""

digest_deliveries = Table(
    "digest_deliveries",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("digest_id", String(36), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", String(27), nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_digest_deliveries_digest_id", "digest_id"),
)
"""Every delivery attempt of a digest to a channel, failed ones included."""

scheduler_ticks = Table(
    "scheduler_ticks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("ticked_at", String(27), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("summary", Text, nullable=False),
)
"""The last tick of each scheduler (a heartbeat, overwritten: not a decision, so no event)."""

skew_figures = Table(
    "skew_figures",
    metadata,
    Column("tolerance", Float, primary_key=True),
    Column("position", Position, nullable=False),
    Column("figures", Text, nullable=False),
    Column("measured_at", String(27), nullable=False),
)
"""The pooled training-serving skew of every served value logged up to `position` (the last
`served_features.id`), per tolerance: a cache of a measure, never a decision, so no event."""

kept_reports = Table(
    "kept_reports",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("state", Text, nullable=False),
    Column("measured_at", String(27), nullable=False),
    Column("valid_until", String(27), nullable=True),
    Column("body", Text, nullable=False),
)
"""A report (the scorecard of a period) as measured, with the state of the database it was
measured at and the moment its figures change with no write (`lucid.storage.kept_reports`):
a cache of a measure, never a decision, so no event."""
