"""The seeded demo world: determinism, schema conformance, the causal stories, and scale."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from triage_core import demo
from triage_core.demo import plan, pools, render, templates, writers
from triage_core.demo import world as world_model
from triage_core.errors import ConfigError
from triage_core.schema import IMPORT_TABLES, OPEN_STATUSES, Table
from triage_core.store import Store

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
FILES = {"customers": "customers.csv", "campaigns": "campaigns.csv", "agents": "agents.csv",
         "tickets": "tickets.parquet", "touchpoints": "touchpoints.parquet"}
WORLD_TICKETS = 6_000


def read_tables(directory: Path) -> dict[str, pd.DataFrame]:
    """Read the five files, parsing every column with the type the schema gives it."""
    out = {}
    for table, name in FILES.items():
        spec = IMPORT_TABLES[table]
        if name.endswith(".parquet"):
            df = pq.read_table(directory / name).to_pandas()
        else:
            raw = pd.read_csv(directory / name, dtype=str, keep_default_na=False)
            df = pd.DataFrame(index=raw.index)
            for col in raw.columns:
                values = raw[col].replace("", None)
                kind = spec.column(col).type
                if kind == "TIMESTAMP":
                    df[col] = pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S")
                elif kind in ("DOUBLE", "INTEGER"):
                    df[col] = pd.to_numeric(values)
                else:
                    df[col] = values
        out[table] = df
    return out


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    demo.generate(out, tickets=WORLD_TICKETS, seed=7)
    return out


@pytest.fixture(scope="module")
def world(world_dir: Path) -> dict[str, pd.DataFrame]:
    return read_tables(world_dir)


def file_bytes(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in FILES.values()}


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = demo.generate(tmp_path / "a", tickets=2_000, seed=5)
    demo.generate(tmp_path / "b", tickets=2_000, seed=5)
    assert {t: p.name for t, p in a.items()} == FILES
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    demo.generate(tmp_path / "a", tickets=2_000, seed=5)
    demo.generate(tmp_path / "b", tickets=2_000, seed=6)
    a, b = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    for name in ("customers.csv", "tickets.parquet", "touchpoints.parquet", "agents.csv"):
        assert a[name] != b[name], name
    ta = pq.read_table(tmp_path / "a" / "tickets.parquet")
    tb = pq.read_table(tmp_path / "b" / "tickets.parquet")
    assert ta.column("body").to_pylist() != tb.column("body").to_pylist()


def test_chunk_size_changes_row_groups_not_data(tmp_path: Path) -> None:
    demo.generate(tmp_path / "a", tickets=3_000, seed=3, chunk_size=700)
    demo.generate(tmp_path / "b", tickets=3_000, seed=3)
    fa, fb = (pq.ParquetFile(tmp_path / d / "tickets.parquet") for d in ("a", "b"))
    assert (fa.metadata.num_row_groups, fb.metadata.num_row_groups) == (5, 1)
    assert fa.read().equals(fb.read())


def test_committed_sample_data_regenerates_exactly(tmp_path: Path) -> None:
    assert (SAMPLE / "tickets.parquet").exists(), "sample_data/ is missing; run " \
        "python -m triage_core.demo sample_data"
    demo.generate(tmp_path, tickets=demo.DEMO_TICKETS, seed=demo.DEMO_SEED)
    for name in FILES.values():
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
            continue
        committed = pq.ParquetFile(SAMPLE / name)
        assert pq.read_table(tmp_path / name).equals(committed.read()), name
        if committed.metadata.created_by == pq.ParquetFile(tmp_path / name).metadata.created_by:
            # Same pyarrow version as the one that wrote sample_data: the bytes match too.
            assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_committed_sample_data_is_small() -> None:
    total = sum((SAMPLE / name).stat().st_size for name in FILES.values())
    assert total < 4_000_000
    assert pq.ParquetFile(SAMPLE / "tickets.parquet").metadata.num_rows == demo.DEMO_TICKETS


# --- schema conformance -----------------------------------------------------------------------


def _check_table(spec: Table, df: pd.DataFrame) -> None:
    assert list(df.columns) == spec.column_names, spec.name
    for col in spec.columns:
        s = df[col.name]
        if col.type == "TIMESTAMP":
            assert pd.api.types.is_datetime64_any_dtype(s), (spec.name, col.name)
        elif col.type == "INTEGER":
            assert s.dropna().eq(s.dropna().round()).all(), (spec.name, col.name)
        elif col.type == "DOUBLE":
            assert pd.api.types.is_numeric_dtype(s), (spec.name, col.name)
        else:
            assert s.dropna().map(type).eq(str).all(), (spec.name, col.name)
        if col.required:
            assert s.notna().all(), (spec.name, col.name)
        if col.allowed is not None:
            assert set(s.dropna()) <= set(col.allowed), (spec.name, col.name)
        if col.min_value is not None:
            assert (s.dropna() >= col.min_value).all(), (spec.name, col.name)
        if col.max_value is not None:
            assert (s.dropna() <= col.max_value).all(), (spec.name, col.name)
    assert not df.duplicated(list(spec.key)).any(), spec.name


def test_every_table_matches_the_schema(world: dict[str, pd.DataFrame]) -> None:
    for table, df in world.items():
        _check_table(IMPORT_TABLES[table], df)
    for table, df in world.items():
        for ref in IMPORT_TABLES[table].references:
            targets = set(world[ref.table][ref.target])
            assert set(df[ref.column]) <= targets, (table, ref.column)
    agent_ids = set(world["agents"]["agent_id"])
    assert set(world["tickets"]["agent_id"].dropna()) <= agent_ids


def test_parquet_timestamps_are_real_timestamps(world_dir: Path) -> None:
    schema = pq.read_schema(world_dir / "tickets.parquet")
    for col in ("created_at", "first_response_at", "resolved_at"):
        assert pa.types.is_timestamp(schema.field(col).type)
    assert pa.types.is_timestamp(pq.read_schema(world_dir / "touchpoints.parquet")
                                 .field("touched_at").type)
    first = (world_dir / "customers.csv").read_text(encoding="utf-8").splitlines()[1]
    assert re.search(r",\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,", first)


def test_store_imports_the_demo_world(world_dir: Path) -> None:
    with Store(":memory:") as store:
        store.import_directory(world_dir)
        counts = store.counts()
    assert counts["tickets"] == WORLD_TICKETS
    assert counts["campaigns"] == 25
    assert counts["agents"] == 40
    assert counts["customers"] == round(WORLD_TICKETS * 0.32)


def test_sizes_follow_the_arguments(tmp_path: Path) -> None:
    demo.generate(tmp_path / "a", tickets=1_000, seed=1, customers=500)
    demo.generate(tmp_path / "b", tickets=1_000, seed=1, customers=500,
                  touches_per_customer=(6, 14))
    a, b = read_tables(tmp_path / "a"), read_tables(tmp_path / "b")
    assert len(a["customers"]) == 500
    assert len(a["tickets"]) == 1_000
    assert len(b["touchpoints"]) > 2 * len(a["touchpoints"])
    per_customer = b["touchpoints"].groupby("customer_id").size()
    assert per_customer.min() >= 6 - 1  # an exact duplicate touch is dropped, rarely
    assert per_customer.max() <= 14
    demo.generate(tmp_path / "c", tickets=10, seed=1)
    assert len(read_tables(tmp_path / "c")["customers"]) == 200


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tickets": 0}, "tickets must be at least 1"),
    ({"tickets": 2.5}, "tickets must be a whole number"),
    ({"seed": -1}, "seed must be at least 0"),
    ({"customers": 0}, "customers must be at least 1"),
    ({"touches_per_customer": (3, 1)}, "touches_per_customer max must be at least 3"),
    ({"touches_per_customer": 4}, "touches_per_customer must be a (min, max) pair"),
    ({"chunk_size": 0}, "chunk_size must be at least 1"),
])
def test_bad_arguments_are_refused_clearly(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        demo.generate(tmp_path, **kwargs)


def test_output_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        demo.generate(f, tickets=10)


def test_progress_reports_every_step(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    demo.generate(tmp_path, tickets=2_500, seed=1, chunk_size=1_000,
                  progress=lambda s, d, t: calls.append((s, d, t)))
    steps = [s for s, _, _ in calls]
    assert list(dict.fromkeys(steps)) == ["customers", "campaigns", "agents", "touchpoints",
                                          "tickets"]
    assert [c for c in calls if c[0] == "tickets"] == [("tickets", 1_000, 2_500),
                                                       ("tickets", 2_000, 2_500),
                                                       ("tickets", 2_500, 2_500)]
    assert calls[-1] == ("tickets", 2_500, 2_500)


def test_module_runs_as_a_script(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["__main__.py", "--help"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("triage_core.demo", run_name="__main__")
    assert done.value.code == 0
    assert "usage: python -m triage_core.demo" in capsys.readouterr().out


# --- realism: text ------------------------------------------------------------------------------


def test_categories_labels_and_languages(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    assert set(t["category"].dropna()) == set(demo.CATEGORIES)
    done = t["status"].isin(["solved", "closed"])
    assert t.loc[~done, "category"].isna().all()
    assert 0.8 < t.loc[done, "category"].notna().mean() < 0.9
    shares = t["language"].value_counts(normalize=True)
    assert shares["en"] > 0.8
    assert all(shares.get(lang, 0) > 0.01 for lang in ("de", "es", "fr"))
    markers = {"de": r"\b(?:ich|nicht|mein|meine|bitte|ist|die|der|das|und|mit|wurde)\b",
               "es": r"\b(?:mi|el|la|no|por|que|se|de|y|es|en|un|una)\b",
               "fr": r"\b(?:je|j|l|mon|ma|le|la|pas|est|de|et|un|une|à)\b"}
    english = t.loc[t["language"] == "en", "body"].str.lower()
    for lang, pattern in markers.items():
        bodies = t.loc[t["language"] == lang, "body"].str.lower()
        assert bodies.str.contains(pattern).mean() > 0.97, lang
    assert english.str.contains(r"\b(?:ich|nicht|bitte|und|pedido|por favor|je|merci)\b"
                                ).mean() < 0.01


def test_bodies_look_like_real_tickets(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    body, subject = t["body"], t["subject"]
    assert body.nunique() > 0.95 * len(t)
    lengths = body.str.len()
    assert lengths.min() < 80 and lengths.max() > 500
    assert body.str.contains("\n\n.+\n\n", regex=True).mean() > 0.2  # several paragraphs
    email = t["channel"] == "email"
    quoted = body.str.contains(r"\n> ", regex=True) & body.str.contains(
        r"(?:wrote|schrieb|escribió|a écrit) ?:", regex=True)
    assert 0.1 < quoted[email].mean() < 0.35
    assert not quoted[~email].any()
    assert subject.str.startswith("Re: ").sum() > 0.5 * quoted.sum()
    assert body.str.contains("Sent from my iPhone", regex=False).any()
    assert body.str.contains(r"^(?:Best|Kind) regards,$", flags=re.M).any()
    assert body.str.contains("!!!", regex=False).mean() > 0.02
    assert body.str.contains(r"\b[A-Z]{4,} [A-Z]{3,} [A-Z]{3,}\b").mean() > 0.01  # ALL CAPS
    assert body.str.contains("you're great", regex=False).any()
    assert body.str.contains("unacceptable", case=False, regex=False).any()
    assert body.str.startswith("@AcmeSupport ").sum() == (t["channel"] == "social").sum()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_some_bodies_hold_pii_for_masking(world: dict[str, pd.DataFrame]) -> None:
    body = world["tickets"]["body"]
    emails = body.str.contains(r"[a-z0-9.]+@[a-z0-9-]+\.[a-z]{2,}", regex=True)
    phones = body.str.contains(r"\+\d{1,2} [\d ()-]{8,}\d", regex=True)
    cards = [c for b in body for c in re.findall(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?!\d)", b)]
    assert 0.01 < emails.mean() < 0.15
    assert 0.01 < phones.mean() < 0.2
    assert len(cards) > 20
    assert all(_luhn_ok(re.sub(r"\D", "", c)) for c in cards)
    assert body.str.contains("4111 1111 1111 1111", regex=False).any()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, tuple | list):
        return [s for v in value for s in _strings(v)]
    return []


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-zà-ÿ]+", re.sub(r"\S+@\S+", " ", text.lower())))


def test_typos_appear_in_some_tickets(world: dict[str, pd.DataFrame]) -> None:
    # Every word the generator can write comes from its templates and pools; a typo (swapped,
    # dropped or doubled character) makes words that are in none of them. Subjects never get
    # typos, so they show the vocabulary is complete.
    texts = [templates.load(name) for name in templates.NAMES]
    texts += [vars(m) for m in (demo, world_model, pools, plan, render, writers)]
    vocabulary = set().union(*(_words(s) for v in texts for s in _strings(v)))
    months = templates.load("calendar")["months"]["en"]
    vocabulary |= {"am", "pm"} | {m[:3].lower() for m in months}
    t = world["tickets"]
    english = t["language"] == "en"
    body_oov = t.loc[english, "body"].map(lambda b: bool(_words(b) - vocabulary))
    subject_oov = t.loc[english, "subject"].map(lambda b: bool(_words(b) - vocabulary))
    assert subject_oov.mean() < 0.002
    assert 0.04 < body_oov.mean() < 0.2


def test_some_tickets_are_ambiguous_or_carry_two_issues(world: dict[str, pd.DataFrame]) -> None:
    body = world["tickets"]["body"]
    assert body.str.contains(r"(?:Also|Another thing|One more thing|Separate issue): ").any()
    assert body.str.contains("please refund one of them", regex=False).any()


def test_category_is_learnable_but_not_trivial(world: dict[str, pd.DataFrame]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    lab = world["tickets"].dropna(subset=["category"])
    text = (lab["subject"] + "\n" + lab["body"]).tolist()
    y = lab["category"].tolist()
    cut = int(len(text) * 0.75)
    model = make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
                          LinearSVC(C=0.5))
    model.fit(text[:cut], y[:cut])
    accuracy = float(np.mean(model.predict(text[cut:]) == np.array(y[cut:])))
    assert 0.8 < accuracy < 0.97


# --- realism: time, status, handling ------------------------------------------------------------


def test_tickets_lie_in_the_fixed_window(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    assert t["created_at"].min() >= pd.Timestamp(demo.TICKETS_FROM)
    assert t["created_at"].max() < pd.Timestamp(demo.TICKETS_UNTIL)
    joined = t.merge(world["customers"], on="customer_id", suffixes=("", "_customer"))
    assert (joined["created_at"] > joined["created_at_customer"]).all()
    assert t["ticket_id"].is_monotonic_increasing
    assert t["created_at"].is_monotonic_increasing


def test_weekly_cycle(world: dict[str, pd.DataFrame]) -> None:
    day = world["tickets"]["created_at"].dt.normalize()
    per_day = day.value_counts()
    dow = per_day.index.day_of_week
    mean = per_day.groupby(dow).mean()
    assert mean[:5].mean() > 1.6 * mean[5:].mean()
    assert mean[0] > mean[4] and mean[0] > mean[5:].max()


def test_outage_spike(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    per_day = t["created_at"].dt.normalize().value_counts()
    outage_day = pd.Timestamp(demo.INCIDENT_FROM).normalize()
    assert per_day[outage_day] > 2.5 * per_day.median()
    inside = t["created_at"].between(pd.Timestamp(demo.INCIDENT_FROM),
                                      pd.Timestamp(demo.INCIDENT_UNTIL))
    tech = t["category"].isin(["app_crash", "account_access"])
    labelled = t["category"].notna()
    assert tech[inside & labelled].mean() > 0.6 > 0.3 > tech[~inside & labelled].mean()
    # Answers are slow during the outage.
    wait = t["first_response_at"] - t["created_at"]
    assert wait[inside].median() > 3 * wait[~inside].median()


def _first_touch(world: dict[str, pd.DataFrame], campaign_ids: tuple[str, ...]) -> pd.Series:
    tp = world["touchpoints"]
    return tp[tp["campaign_id"].isin(campaign_ids)].groupby("customer_id")["touched_at"].min()


def test_discount_campaign_drives_coupon_tickets(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    campaigns = world["campaigns"].set_index("campaign_id")
    assert campaigns.loc[demo.DISCOUNT_CAMPAIGN_IDS[0], "name"] == "Spring Sale 40% off"
    launch = campaigns.loc[list(demo.DISCOUNT_CAMPAIGN_IDS), "start_at"].min()
    first = _first_touch(world, demo.DISCOUNT_CAMPAIGN_IDS)
    customers = world["customers"]["customer_id"]
    touched = customers.isin(first.index)
    after = t[t["created_at"].between(launch, launch + pd.Timedelta(days=14))]
    coupon = after[after["category"] == "coupon_promo"]
    from_touched = coupon["customer_id"].isin(first.index)
    rate_touched = from_touched.sum() / touched.sum()
    rate_other = (~from_touched).sum() / (~touched).sum()
    assert rate_touched > 4 * rate_other
    # ... and those tickets come after the customer's touch, so attribution can find them.
    follows = coupon.loc[from_touched, "created_at"].to_numpy() > first.reindex(
        coupon.loc[from_touched, "customer_id"]).to_numpy()
    assert follows.mean() > 0.9
    assert coupon["body"].str.contains(demo.DISCOUNT_CODE, regex=False).mean() > 0.3
    # Billing questions rise too.
    billing = after["category"] == "billing"
    assert after.loc[billing, "customer_id"].isin(first.index).mean() > touched.mean() + 0.1


def test_app_release_drives_crash_tickets(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    campaigns = world["campaigns"].set_index("campaign_id")
    assert campaigns.loc[demo.APP_RELEASE_CAMPAIGN_IDS[0], "name"] == "App 5.0 launch"
    launch = campaigns.loc[demo.APP_RELEASE_CAMPAIGN_IDS[0], "start_at"]
    first = _first_touch(world, demo.APP_RELEASE_CAMPAIGN_IDS)
    touched = world["customers"]["customer_id"].isin(first.index)
    after = t[t["created_at"].between(launch, launch + pd.Timedelta(days=21))
              & (t["category"] == "app_crash")]
    from_touched = after["customer_id"].isin(first.index)
    assert from_touched.sum() / touched.sum() > 3 * (~from_touched).sum() / (~touched).sum()
    assert after["body"].str.contains(r"\b5\.0", regex=True).any()
    before = t[(t["created_at"] < launch) & (t["category"] == "app_crash")]
    assert not before["body"].str.contains(r"\b5\.0\.\d", regex=True).any()


def test_vip_and_enterprise_have_their_own_issues(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"].merge(world["customers"][["customer_id", "segment"]], on="customer_id")
    high = t["segment"].isin(["vip", "enterprise"])
    risky = t["category"].isin(["security_fraud", "account_access"])
    labelled = t["category"].notna()
    assert risky[high & labelled].mean() > risky[~high & labelled].mean() + 0.08
    waiting = t["body"].str.contains(r"waiting|long-standing customer|no reply", regex=True)
    assert waiting[high].mean() > 2 * waiting[~high].mean()
    # Angrier overall: furious, angry or waiting sentences (English tickets).
    message = templates.load("message")
    tones = message["tones"]["en"]
    sentences = [s.split("{")[0] for s in tones["furious"] + tones["angry"]]
    sentences += [s.split("{")[0] for s in message["waiting"]["en"]]
    english = t["language"] == "en"
    angry = t["body"].map(lambda b: any(s in b for s in sentences))
    assert angry[high & english].mean() > 1.2 * angry[~high & english].mean()


def test_status_and_times_are_consistent(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    end = pd.Timestamp(demo.TICKETS_UNTIL)
    status = t["status"]
    is_open = status.isin(OPEN_STATUSES)
    assert (t["first_response_at"].isna() == (status == "new")).all()
    assert (t["resolved_at"].isna() == is_open).all()
    assert t.loc[status == "new", "agent_id"].isna().all()
    assert t.loc[~is_open, "agent_id"].notna().all()  # every answered, solved ticket had one
    assert (t["agent_id"].isna() | t["first_response_at"].notna()).all()
    assert (t["first_response_at"].dropna() > t.loc[t["first_response_at"].notna(),
                                                     "created_at"]).all()
    solved = t["resolved_at"].notna()
    assert (t.loc[solved, "resolved_at"] >= t.loc[solved, "first_response_at"]).all()
    assert (t["resolved_at"].dropna() < end).all()
    age = end - t["created_at"]
    assert (~is_open[age > pd.Timedelta(days=30)]).mean() > 0.97
    assert is_open[age < pd.Timedelta(days=1)].mean() > 0.5
    assert set(status[age < pd.Timedelta(days=1)]) >= {"new", "open", "pending"}
    assert (status[t["resolved_at"] < end - pd.Timedelta(days=5)] == "closed").all()
    # First answers take minutes on weekdays, much longer at weekends.
    wait = (t["first_response_at"] - t["created_at"]).dt.total_seconds()
    weekend = t["created_at"].dt.day_of_week >= 5
    assert wait[weekend].median() > 5 * wait[~weekend].median()
    assert wait[~weekend].median() < 4 * 3600


def test_csat_follows_tone_and_waiting(world: dict[str, pd.DataFrame]) -> None:
    t = world["tickets"]
    rated = t["csat"].notna()
    assert set(t.loc[rated, "status"]) <= {"solved", "closed"}
    done = t["status"].isin(["solved", "closed"])
    assert 0.25 < rated[done].mean() < 0.5
    assert set(t.loc[rated, "csat"].astype(int)) == {1, 2, 3, 4, 5}
    angry = t["body"].str.contains(r"unacceptable|furious|DONE|inakzeptabel|INADMISSIBLE",
                                   regex=True)
    assert t.loc[rated & angry, "csat"].mean() < t.loc[rated & ~angry, "csat"].mean() - 0.8
    took = t["resolved_at"] - t["created_at"]
    fast = rated & (took < pd.Timedelta(hours=12))
    slow = rated & (took > pd.Timedelta(days=5))
    assert t.loc[fast, "csat"].mean() > t.loc[slow, "csat"].mean() + 0.5


def test_agents_and_routing(world: dict[str, pd.DataFrame]) -> None:
    agents = world["agents"]
    assert len(agents) == 40
    assert set(agents["team"]) == set(demo.CATEGORY_TEAM.values()) | {"vip_desk"}
    assert (agents.loc[agents["team"] == "vip_desk", "senior"] == 1).all()
    assert agents["capacity"].between(5, 25).all()
    langs = {lang for v in agents["languages"] for lang in v.split(";")}
    assert langs == {"en", "de", "es", "fr"}
    assert agents["skills"].str.contains(";").all()
    t = world["tickets"].merge(agents[["agent_id", "team", "languages"]], on="agent_id")
    expected = t["category"].map(demo.CATEGORY_TEAM)
    known = t["category"].notna()
    matches = (t["team"] == expected)[known].mean()
    assert 0.6 < matches < 0.95
    speaks = [lang in langs.split(";") for lang, langs in zip(t["language"], t["languages"],
                                                                 strict=True)]
    assert np.mean(speaks) > 0.99


@pytest.mark.parametrize("where", ["world", "sample_data"])
def test_open_tickets_respect_agent_capacity(world: dict[str, pd.DataFrame], where: str) -> None:
    tables = world if where == "world" else read_tables(SAMPLE)
    t, agents = tables["tickets"], tables["agents"]
    open_ = t[t["status"].isin(OPEN_STATUSES)]
    load = open_["agent_id"].value_counts().reindex(agents["agent_id"], fill_value=0)
    capacity = agents.set_index("agent_id")["capacity"]
    assert (load <= capacity).all(), load[load > capacity]
    answered = open_[open_["status"] != "new"]
    if where == "sample_data":  # busy queues: many agents are full, the rest wait unassigned
        assert (load == capacity).sum() >= 10
        assert 0.5 < answered["agent_id"].notna().mean() < 1
    held = answered.merge(agents, on="agent_id")
    assert all(lang in spoken.split(";") for lang, spoken in
               zip(held["language"], held["languages"], strict=True))


# --- realism: customers, campaigns, touchpoints ---------------------------------------------------


def test_customers_segments_and_heavy_tailed_value(world: dict[str, pd.DataFrame]) -> None:
    c = world["customers"]
    assert set(c["segment"]) == {"consumer", "smb", "enterprise", "vip"}
    median = c.groupby("segment")["lifetime_value"].median()
    assert median["vip"] > 5 * median["consumer"]
    assert median["enterprise"] > median["smb"] > median["consumer"]
    consumer = c.loc[c["segment"] == "consumer", "lifetime_value"]
    assert consumer.quantile(0.99) > 8 * consumer.median()
    assert set(c["plan"]) <= {"free", "basic", "pro", "business", "enterprise"}


def test_campaigns(world: dict[str, pd.DataFrame]) -> None:
    k = world["campaigns"]
    assert len(k) == 25
    assert set(k["channel"]) == {"email", "paid_search", "paid_social", "display", "affiliate",
                                 "webinar", "referral"}
    assert k["end_at"].isna().any() and k["end_at"].notna().any()
    assert (k["end_at"].dropna() > k.loc[k["end_at"].notna(), "start_at"]).all()
    assert k["utm_campaign"].notna().all()
    assert (k["spend"] > 0).all() and (k["revenue"] > 0).all()


def test_touchpoints_are_journeys_inside_campaigns(world: dict[str, pd.DataFrame]) -> None:
    tp = world["touchpoints"].merge(world["campaigns"], on="campaign_id")
    assert set(tp["kind"]) == {"impression", "click", "open", "visit", "signup", "purchase"}
    end = tp["end_at"].fillna(pd.Timestamp(demo.TICKETS_UNTIL))
    assert (tp["touched_at"] >= tp["start_at"]).all() and (tp["touched_at"] <= end).all()
    per_customer = tp.groupby("customer_id").size()
    assert per_customer.min() >= 1 and per_customer.max() <= 8
    assert per_customer.max() >= 7
    customers = world["customers"]["customer_id"]
    touched = customers.isin(per_customer.index)
    writers = customers.isin(world["tickets"]["customer_id"])
    assert 0.5 < touched.mean() < 0.8
    assert (touched & ~writers).sum() > 100  # touched, never wrote a ticket
    assert (~touched & writers).sum() > 100
    email = tp["channel"] == "email"
    assert set(tp.loc[email, "kind"]) <= {"open", "click", "visit", "purchase"}


# --- scale ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_large_generation_in_chunks(tmp_path: Path) -> None:
    n = 250_000
    paths = demo.generate(tmp_path, tickets=n, seed=11, chunk_size=40_000)
    meta = pq.ParquetFile(paths["tickets"]).metadata
    assert meta.num_rows == n
    assert meta.num_row_groups == 7
    ids = pq.read_table(paths["tickets"], columns=["ticket_id"]).column(0)
    assert len(set(ids.to_pylist())) == n
    with paths["customers"].open(encoding="utf-8") as f:
        customers = sum(1 for _ in f) - 1
    assert customers == round(n * 0.32)
    assert pq.ParquetFile(paths["touchpoints"]).metadata.num_rows > customers
