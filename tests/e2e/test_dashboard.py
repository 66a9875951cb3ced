"""The dashboard in headless Chromium against a real `lucid serve` on loopback.

The project is filled through the SDK: approved features and a proposed new version, a model
with observations across versions (deployed, then rolled back automatically), a candidate,
an A/B experiment with outcomes, and a monitored model whose runs reach ok, warning and
critical. Every page is loaded; every chart's SVG has the points and lines its data says; an
approval through the page is recorded as the token's person; lower roles are neither offered
nor allowed the writes. The overview's screenshot is saved under tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sklearn.linear_model import LogisticRegression

from lucid.bootstrap import open_project
from lucid.contracts.experiments import assign
from lucid.contracts.semantic import FeatureDefinition
from lucid.contracts.validity import MonitoringPolicy
from lucid.contracts.value import Override
from lucid.features.definition_files import DefinitionSet, load_definitions
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from tests.conftest import run_lucid
from tests.contract.test_registry import prove, retention
from tests.e2e.browser import chromium
from tests.e2e.service_world import served
from tests.monitoring_world import DAY1, prediction_rows

V1, SPEND, V2 = (
    "customer_activity_30d@1.0.0",
    "customer_spend_30d@1.0.0",
    "customer_activity_30d@2.0.0",
)
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
TEAMS = (("marketing", "mia"), ("data-science", "sam"), ("product", "paul"))


class Stepper:
    """A project clock that moves six hours per reading, so the charts spread over days."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(hours=6)
        return self.now


def fitted() -> LogisticRegression:
    return LogisticRegression().fit(
        [[0.0, 0.0], [0.9, 80.0], [0.1, 5.0], [0.8, 60.0]], [1, 0, 1, 0]
    )


def register(lucid: Any, rationale: str) -> None:
    lucid.registry.register_model(
        "churn",
        artifact=SklearnArtifact(estimator=fitted()),
        impact=retention(),
        features=[V1, SPEND],
        training_data="sha256:1",
        offline_metrics={"auc": 0.8},
        registered_by="ana",
        rationale=rationale,
    )


UPSELL_POLICY = {
    "model": "upsell",
    "thresholds": [
        {
            "drift_type": "data",
            "metric": "psi",
            "feature": "tenure",
            "warning": 0.1,
            "critical": 0.2,
            "warning_action": "alert:data_team",
            "critical_action": "alert:data_team",
        },
        {
            "drift_type": "concept",
            "metric": "accuracy_drop",
            "warning": 0.03,
            "critical": 0.05,
            "warning_action": "alert:data_team",
            "critical_action": "alert:data_team",
        },
    ],
    "reporting": {"stakeholders": ["vic", "carla"], "frequency": "daily"},
}


def fill(lucid: Any) -> None:
    """Features, the churn model's story, an experiment and the monitored upsell model."""
    lucid.features.apply(load_definitions(CANONICAL_DEFINITIONS), actor="dana", rationale="r")
    lucid.features.apply(load_definitions(SPEND_DEFINITIONS), actor="dana", rationale="r")
    for ref in (V1, SPEND):
        for team, person in TEAMS:
            lucid.features.approve(ref, team=team, person=person, rationale="ok")
    changed = load_definitions(CANONICAL_DEFINITIONS).features[0].to_dict()
    changed.update(version="2.0.0", window="28d", examples=[])
    lucid.features.apply(
        DefinitionSet(features=[FeatureDefinition.from_dict(changed)]),
        actor="dana",
        rationale="billing month",
    )
    lucid.features.materialize()
    # churn v1 serves, observed three times; v2 wins an A/B test, serves, is observed twice
    # and rolled back automatically; v3 waits as a candidate.
    register(lucid, "first model")
    prove(lucid.registry, 1)
    lucid.registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
    lucid.registry.promote(
        "churn",
        1,
        "production",
        actor="ana",
        rationale="first",
        override=Override("bea", "first version: nothing serves production to test against"),
    )
    for period, value in (("2026-11a", 0.80), ("2026-11b", 0.81), ("2026-11c", 0.805)):
        lucid.registry.observe(
            "churn", 1, metric="retention_rate", value=value, period=period, actor="bi"
        )
    register(lucid, "retrained")
    lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
    lucid.experiments.create(
        "churn-ab",
        model="churn",
        challenger=2,
        minimum_detectable_effect=0.05,
        actor="ana",
        rationale="does v2 keep more customers?",
        challenger_share=0.5,
    )
    entities = [f"c{n:04d}" for n in range(400)]
    lucid.experiments.expose("churn-ab", [{"entity_id": e} for e in entities], actor="ana")
    outcomes = []
    for n, entity in enumerate(entities):
        rate = 0.9 if assign(entity, "churn-ab", 0.5) == "challenger" else 0.8
        outcomes.append({"entity_id": entity, "value": int((n * 7919) % 100 < rate * 100)})
    lucid.experiments.record_outcomes("churn-ab", outcomes, actor="bi")
    prove(lucid.registry, 2)
    lucid.registry.promote("churn", 2, "production", actor="bea", rationale="A/B won")
    for period, value in (("2026-12a", 0.81), ("2026-12b", 0.76)):
        lucid.registry.observe(
            "churn", 2, metric="retention_rate", value=value, period=period, actor="bi"
        )
    report = lucid.registry.evaluate("churn", actor="bi")
    assert report.rolled_back_to == 1
    register(lucid, "third try")
    # winback enters production on an approver's override: the models page's override share.
    lucid.registry.register_model(
        "winback",
        artifact=SklearnArtifact(estimator=fitted()),
        impact=retention(),
        features=[V1, SPEND],
        training_data="sha256:2",
        offline_metrics={"auc": 0.7},
        registered_by="ana",
        rationale="win back the lapsed",
    )
    lucid.registry.promote("winback", 1, "challenger", actor="ana", rationale="A/B")
    lucid.registry.promote(
        "winback",
        1,
        "production",
        actor="ana",
        rationale="the season starts",
        override=Override("bea", "the campaign cannot wait for the test"),
    )
    # upsell: a stored policy naming vic, carla and data_team; runs over three days, the
    # tenure drifting more each day.
    lucid.monitoring.set_policy(
        MonitoringPolicy.from_mapping(UPSELL_POLICY), actor="dana", rationale="watch upsell"
    )
    for day, shift in enumerate((0.0, 0.0, 0.3, 1.0)):
        rows, labels = prediction_rows(
            DAY1 + timedelta(days=day), 2000, seed=day + 1, tenure_shift_sd=shift, prefix="u"
        )
        lucid.monitoring.log_predictions("upsell", 1, rows)
        lucid.monitoring.log_outcomes("upsell", labels)
    lucid.monitoring.build_profile("upsell", 1, start=DAY1, end=DAY1 + timedelta(days=1))
    for day in (1, 2, 3):
        start = DAY1 + timedelta(days=day)
        lucid.monitoring.run("upsell", start=start, end=start + timedelta(days=1), version=1)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("dashboard") / "shop"
    assert run_lucid("init", str(folder)).code == 0
    (folder / "lucid.yaml").write_text((folder / "lucid.yaml").read_text() + "approvers: [bea]\n")
    write_sample_activity(folder)
    with open_project(folder, environ={}) as lucid:
        lucid.clock = Stepper()
        fill(lucid)
        tokens = lucid.tokens
        secrets = {
            name: tokens.create(
                person=person, role=role, teams=teams, actor="admin", rationale="test"
            )[1]
            for name, person, role, teams in (
                ("viewer", "vic", "viewer", []),
                ("scientist", "sam", "scientist", []),
                ("approver", "mia", "approver", ["marketing", "data_team"]),
                ("proposer", "dana", "approver", ["marketing"]),
            )
        }
    return folder, secrets


@pytest.fixture(scope="module")
def server(project: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with served(project[0], workers=2) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def signed_in(browser: Any, server: str, token: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(f"{server}/dashboard/login")
    page.fill("#token", token)
    page.click("#sign-in")
    page.wait_for_url(f"{server}/dashboard")
    return page


def form_token(page: Any) -> str:
    """The CSRF token of the page's session, as its sign-out form carries it."""
    return str(page.locator("#sign-out input[name=csrf]").input_value())


def events_of(folder: Path, kind: str) -> list[Any]:
    with open_project(folder, environ={}) as lucid:
        return lucid.events.read(type=kind, limit=10_000)


def test_every_page_renders_with_its_charts(browser: Any, server: str, project: Any) -> None:
    folder, secrets = project
    page = signed_in(browser, server, secrets["viewer"])
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # Overview: the eleven scorecard figures, transparency included — stakeholders vic,
    # carla, data_team (upsell's policy) and ana (churn's owner); vic and data_team (mia
    # approves for it) hold tokens: 50 %. The override share counts the log's overrides among
    # its three production promotions (winback's is one).
    promoted = [
        e.payload["name"]
        for e in events_of(folder, "ModelPromoted")
        if e.payload["to_stage"] == "production"
    ]
    overridden = [e.payload["name"] for e in events_of(folder, "PromotionOverridden")]
    assert len(promoted) == 3 and "winback" in overridden
    assert page.locator("#scorecard tr[data-key]").count() == 11
    assert page.inner_text("#scorecard tr[data-key=transparency_pct] .value") == "50"
    assert page.inner_text("#scorecard tr[data-key=override_share_pct] .value") == (
        "%.4g" % (100 * len(overridden) / 3)
    )
    assert page.inner_text("#production-models b") == "2"
    assert page.inner_text("#chain b") == "verified"
    with open_project(folder, environ={}) as lucid:
        alerts = lucid.monitoring.alerts("upsell")
    assert alerts and page.inner_text("#open-alerts b") == str(len(alerts))
    assert "signed in as vic (viewer)" in page.inner_text("#who")
    # Features: the catalogue and the pending version.
    page.goto(f"{server}/dashboard/features")
    assert page.inner_text(f"#definitions tr[data-ref='{V1}'] .approvals") == (
        "marketing (mia), data-science (sam), product (paul)"
    )
    assert "proposed" in page.inner_text(f"#definitions tr[data-ref='{V2}']")
    # Models: each model's production promotions per month, then its whole history; churn's
    # rested on external evidence (files' records) but for overrides, winback's on one.
    page.goto(f"{server}/dashboard/models")
    with open_project(folder, environ={}) as lucid:
        months = {r.model: r.period for r in lucid.registry.override_shares().rows}
    promotions = page.locator("#promotions tr[data-model]")
    cells = [
        [promotions.nth(i).locator("td").nth(c).inner_text() for c in range(5)]
        for i in range(promotions.count())
    ]
    assert cells[-1] == ["winback\nwhole history", "1", "0\n0 / 0", "1", "100 %"]
    churn = overridden.count("churn")
    assert cells[-3] == [
        "churn\nwhole history",
        "2",
        f"{2 - churn}\n0 / {2 - churn}",
        str(churn),
        f"{100 * churn / 2:.0f} %",
    ]
    assert page.locator(f"tr[data-model=winback][data-period='{months['winback']}']").count()
    page.click("#periods >> text=year")
    page.wait_for_url("**/dashboard/models?period=year")
    assert page.inner_text("#promotions tr:nth-child(1) th:nth-child(1)") == "model, year"
    page.goto(f"{server}/dashboard/models?period=week")
    assert "period: must be one of month, quarter, year" in page.inner_text("#error")
    # Readable on a phone (390 px): the table fits its width without scrolling sideways.
    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{server}/dashboard/models")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "dashboard-models-390.png"), full_page=True)
    table = phone.locator("#promotions").bounding_box()
    assert table["x"] >= 0 and table["x"] + table["width"] <= 390, table
    phone.context.close()
    # The contract chart: five observations in two series (v1, v2), the three
    # contract lines, and three markers: v1 and v2 deployed, then the rollback.
    page.goto(f"{server}/dashboard/models")
    page.click("#models >> text=churn")
    page.wait_for_url("**/dashboard/models/churn")
    assert page.title() == "Model churn — Lucid"
    chart = page.locator("#contract-chart")
    assert chart.locator("circle.point").count() == 5
    assert chart.locator("g.series").count() == 2
    # Each serving span draws its version's three lines: v1, v2, then v1 again after the rollback.
    assert chart.locator("line.reference").count() == 9
    labels = [chart.locator("line.marker").nth(i).get_attribute("data-label") for i in range(3)]
    assert labels == ["v1 deployed", "v2 deployed", "rollback"]
    assert chart.locator("circle.point.bad").get_attribute("data-y") == "0.76"
    assert chart.bounding_box()["width"] > 300  # drawn, not just present
    assert "rollback_due" in page.inner_text("#evaluations")
    shown = page.locator("#versions tr[data-version='2'] .evidence")
    assert shown.get_attribute("data-origin") == "external"
    assert "external" in shown.inner_text() and "business retention_rate" in shown.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-model.png"), full_page=True)
    # Monitoring: one chart per check, three runs each, coloured by level.
    page.goto(f"{server}/dashboard/monitoring")
    page.click("#monitored >> text=upsell")
    page.wait_for_url("**/dashboard/monitoring/upsell")
    charts = page.locator("svg.line-chart")
    assert charts.count() >= 2
    for index in range(charts.count()):
        one = charts.nth(index)
        assert one.locator("line.reference").count() == 2
        assert one.locator("circle.point").count() == 3
    tenure = page.locator("svg[aria-label='psi[tenure]']")
    levels = [tenure.locator("circle.point").nth(i).get_attribute("class") for i in range(3)]
    values = [tenure.locator("circle.point").nth(i).get_attribute("data-y") for i in range(3)]
    assert levels == ["point ok", "point warning", "point critical"], values
    assert page.locator("#runs tr").count() == 4
    page.screenshot(path=str(ARTIFACTS / "dashboard-monitoring.png"), full_page=True)
    # Experiments: the effect with its interval, the SRM verdict.
    page.goto(f"{server}/dashboard/experiments")
    effects = page.locator("#effects-chart")
    assert effects.locator("g.interval-row").count() == 1
    assert effects.locator("line.interval").count() == 1
    assert effects.locator("circle.estimate").count() == 1
    assert "as designed" in page.inner_text("tr[data-experiment='churn-ab'] .srm")
    page.screenshot(path=str(ARTIFACTS / "dashboard-experiments.png"), full_page=True)
    # Incidents: the one monitoring opened on upsell, reached from the nav.
    page.click("header >> text=Incidents")
    page.wait_for_url("**/dashboard/incidents")
    assert "upsell" in page.inner_text("#incidents")
    # Events: a timeline with rationales, paged.
    page.goto(f"{server}/dashboard/events")
    assert "billing month" in page.inner_text("#events")
    total = page.locator("#events tr").count() - 1
    assert total > 40
    page.goto(f"{server}/dashboard/events?limit=20")
    assert page.locator("#events tr").count() == 21
    page.click("#next")
    page.wait_for_url("**after=20**")
    assert page.inner_text("#events tr:nth-child(2) td:first-child") == "21"
    page.goto(f"{server}/dashboard/events?limit=0")
    assert page.inner_text("#error") == "limit: must be between 1 and 1000, not 0"
    page.goto(f"{server}/dashboard/events?type=ModelRolledBack")
    assert page.locator("#events tr").count() == 2
    page.goto(f"{server}/dashboard/models/nothing")
    assert "No model named nothing is registered." in page.inner_text("#error")
    # The overview, as the artefact of the run.
    page.goto(f"{server}/dashboard")
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)
    assert (ARTIFACTS / "dashboard-overview.png").stat().st_size > 10_000
    # Every page and asset came from the server itself: no CDN, no other host.
    assert len(requested) >= 13
    assert [url for url in requested if not url.startswith(server + "/")] == []


def test_a_viewer_is_offered_no_write_and_refused_every_one(
    browser: Any, server: str, project: Any
) -> None:
    folder, secrets = project
    page = signed_in(browser, server, secrets["viewer"])
    for path, form in (
        ("/dashboard/features", "form.approve"),
        ("/dashboard/models/churn", "form.promote"),
        ("/dashboard/models/churn", "#freeze"),
        ("/dashboard/monitoring/upsell", "form.acknowledge"),
    ):
        page.goto(server + path)
        assert page.locator(form).count() == 0, (path, form)
    before = len(events_of(folder, "FeatureApprovalGiven"))
    csrf = form_token(page)
    refused = page.request.post(
        f"{server}/dashboard/features/{V2}/approvals",
        form={"team": "marketing", "rationale": "me too", "csrf": csrf},
    )
    assert refused.status == 403
    assert "vic is a viewer; approving" in refused.text()
    frozen = page.request.post(
        f"{server}/dashboard/models/churn/freeze", form={"reason": "no", "csrf": csrf}
    )
    assert frozen.status == 403 and "freezing churn needs the approver role" in frozen.text()
    assert len(events_of(folder, "FeatureApprovalGiven")) == before
    assert not events_of(folder, "ModelFrozen")


def test_forms_from_elsewhere_are_refused(browser: Any, server: str, project: Any) -> None:
    folder, secrets = project
    page = signed_in(browser, server, secrets["approver"])
    form = {"team": "marketing", "rationale": "forged", "csrf": "0" * 64}
    forged = page.request.post(f"{server}/dashboard/features/{V2}/approvals", form=form)
    assert forged.status == 403 and "token does not match this session" in forged.text()
    form["csrf"] = form_token(page)
    foreign = page.request.post(
        f"{server}/dashboard/features/{V2}/approvals",
        form=form,
        headers={"Origin": "http://evil.example"},
    )
    assert (
        foreign.status == 403 and "Origin: a form sent from http://evil.example" in foreign.text()
    )
    assert not [
        e
        for e in events_of(folder, "FeatureApprovalGiven")
        if e.actor == "mia" and e.payload["version"] == "2.0.0"
    ]
    login = page.request.post(
        f"{server}/dashboard/login",
        form={"token": secrets["viewer"]},
        headers={"Origin": "http://evil.example"},
    )
    assert login.status == 403 and "Origin: a form sent from http://evil.example" in login.text()


def test_an_approval_through_the_page_is_recorded_as_the_tokens_person(
    browser: Any, server: str, project: Any
) -> None:
    folder, secrets = project
    # The proposer is offered the form (an approver for marketing) but four-eyes refuses.
    own = signed_in(browser, server, secrets["proposer"])
    own.goto(f"{server}/dashboard/features")
    row = own.locator(f"#definitions tr[data-ref='{V2}']")
    row.locator("input[name=rationale]").fill("mine")
    row.locator("form.approve button").click()
    assert "nobody approves their own change" in own.inner_text("#error")
    # mia approves for marketing — the only missing team she speaks for.
    page = signed_in(browser, server, secrets["approver"])
    page.goto(f"{server}/dashboard/features")
    row = page.locator(f"#definitions tr[data-ref='{V2}']")
    assert row.locator("form.approve").count() == 1
    row.locator("input[name=rationale]").fill("window matches the billing month")
    row.locator("form.approve button").click()
    page.wait_for_url(f"{server}/dashboard/features?done=approval")
    assert page.inner_text("#done") == "Your approval was recorded."
    assert page.inner_text(f"#definitions tr[data-ref='{V2}'] .approvals") == "marketing (mia)"
    assert page.locator(f"#definitions tr[data-ref='{V2}'] form.approve").count() == 0
    last = events_of(folder, "FeatureApprovalGiven")[-1]
    assert (last.actor, last.payload["team"], last.payload["version"]) == (
        "mia",
        "marketing",
        "2.0.0",
    )
    assert last.rationale == "window matches the billing month"


def test_a_scientist_acknowledges_an_alert_and_an_approver_freezes(
    browser: Any, server: str, project: Any
) -> None:
    folder, secrets = project
    page = signed_in(browser, server, secrets["scientist"])
    page.goto(f"{server}/dashboard/models/churn")
    assert page.locator("#freeze").count() == 0
    assert page.locator("tr[data-version='3'] form.promote button").inner_text() == (
        "Promote to challenger"
    )
    page.goto(f"{server}/dashboard/monitoring/upsell")
    offered = page.locator("form.acknowledge").count()
    assert offered >= 1
    page.locator("form.acknowledge button").first.click()
    page.wait_for_url("**/monitoring/upsell?done=ack")
    assert page.locator("form.acknowledge").count() == offered - 1
    assert "sam at" in page.inner_text("#alerts")
    [acked] = events_of(folder, "AlertAcknowledged")
    assert acked.actor == "sam"
    # Bad input through a form: the sentence naming the field, and nothing recorded.
    csrf = form_token(page)
    promotions = f"{server}/dashboard/models/churn/versions/3/promotions"
    bad = page.request.post(promotions, form={"to": "heaven", "rationale": "r", "csrf": csrf})
    assert bad.status == 422
    assert "to: &#39;heaven&#39; must be challenger or production" in bad.text()
    bare = page.request.post(promotions, form={"to": "challenger", "rationale": " ", "csrf": csrf})
    assert bare.status == 422 and "rationale: is required" in bare.text()
    high = page.request.post(promotions, form={"to": "production", "rationale": "r", "csrf": csrf})
    assert high.status == 403 and "needs the approver role" in high.text()
    unknown = page.request.post(
        f"{server}/dashboard/monitoring/upsell/alerts/nope/acknowledge", form={"csrf": csrf}
    )
    assert unknown.status == 404 and "No alert has the id nope." in unknown.text()
    # An approver freezes the model; promoting then is refused with the gate's sentence.
    page = signed_in(browser, server, secrets["approver"])
    page.goto(f"{server}/dashboard/models/churn")
    page.fill("#freeze input[name=reason]", "investigating the rollback")
    page.click("#freeze button")
    page.wait_for_url("**/models/churn?done=freeze")
    assert "investigating the rollback" in page.inner_text("#frozen")
    row = page.locator("tr[data-version='3']")
    row.locator("input[name=rationale]").fill("try it")
    row.locator("form.promote button").click()
    assert "frozen" in page.inner_text("#error")
    [frozen] = events_of(folder, "ModelFrozen")
    assert frozen.actor == "mia"
    assert not [e for e in events_of(folder, "ModelPromoted") if e.payload["version"] == 3]
