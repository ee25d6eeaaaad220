"""The generation run: build every entity in dependency order and write the landing folder.

File layout and the messy form each file carries are decided here, in one place, so the
manifest and the README of the sample can be read side by side with this module.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from upsell.generate import catalog
from upsell.generate.accounts import build_accounts, build_contacts
from upsell.generate.billing import forced_from_campaigns, simulate_invoices
from upsell.generate.campaigns import SEED_DM, build_campaigns, campaigns_table
from upsell.generate.crm import build_activities, build_deals_and_leads, build_nps, deals_table
from upsell.generate.email import EmailResponses, email_chunks
from upsell.generate.formats import Style
from upsell.generate.messy import Injection
from upsell.generate.params import scale_params
from upsell.generate.responses import campaign_deals, collect_inquiries, dm_sends, seminar_attendance
from upsell.generate.schema import DATASETS, SOURCE_OF
from upsell.generate.subscriptions import build_subscriptions
from upsell.generate.timeutil import date_of, ts_of_local
from upsell.generate.world import World
from upsell.generate.writers import CsvExport, ExportFile, JsonlExport, ParquetExport

SOURCES = ("crm", "billing", "email", "plan")
STRAY_FILE = "crm/export_log.txt"


def _clean(out: Path) -> None:
    """Remove what an earlier run wrote (export files, stray file, manifest); nothing else."""
    for source in SOURCES:
        folder = out / source
        if not folder.is_dir():
            continue
        for f in sorted(folder.iterdir()):
            stem = f.name.split(".")[0]
            ours = any(stem == d or stem.startswith(d + "_") for d, s in SOURCE_OF.items()
                       if s == source)
            if f.is_file() and (ours or f"{source}/{f.name}" == STRAY_FILE):
                f.unlink()
    manifest = out / "MANIFEST.json"
    if manifest.exists():
        manifest.unlink()


class _Files:
    """Collects closed files' manifest entries."""

    def __init__(self, out: Path, seed: int) -> None:
        self.out = out
        self.seed = seed
        self.entries: dict[str, dict] = {}

    def close(self, f: ExportFile) -> None:
        self.entries[f.relpath] = f.close()

    def csv(self, relpath: str, dataset: str, table: pa.Table, slice_rows: int,
            injection: Injection | None = None, eligible: np.ndarray | None = None,
            **kw: object) -> None:
        f = CsvExport(self.out, relpath, dataset, self.seed, **kw)
        n = table.num_rows
        for i in range(0, max(n, 1), slice_rows):
            part = table.slice(i, slice_rows)
            el = None if eligible is None else eligible[i: i + part.num_rows]
            f.write(part, injection if i == 0 else None, el)
        self.close(f)


def _not_campaign(table: pa.Table, campaign_id: str) -> np.ndarray:
    col = table.column("campaign_id")
    return np.asarray(pc.fill_null(pc.not_equal(col, campaign_id), True))


def generate(out_dir: Path, scale: str, seed: int, start: dt.date = dt.date(2023, 4, 1),
             end: dt.date = dt.date(2026, 10, 31)) -> dict:
    """Write a landing folder of exports for ``scale`` and return its manifest."""
    params = scale_params(scale)
    if (end - start).days < 240:
        raise ValueError("the range must cover at least 8 months (campaign windows, renewals)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    w = World(seed=int(seed), params=params, start=start, end=end)
    files = _Files(out, w.seed)
    slice_rows = params.slice_rows
    acc = build_accounts(w)
    con = build_contacts(w, acc)
    campaigns = build_campaigns(w, acc.n, con.n)
    seed_campaign = next(c for c in campaigns if c.seed_example)

    # email events, streamed into part files
    resp = EmailResponses()
    part = -1
    writer: CsvExport | None = None
    part_forms = ("iso_jst", "jst", "iso_z")
    part_faults = (Injection(duplicates=2, bad=("unknown_enum",)),
                   Injection(duplicates=1, bad=("bad_date", "missing_key")),
                   Injection(bad=("bad_number",)))
    for chunk in email_chunks(w, acc, con, campaigns, resp):
        inj = None
        if writer is None or writer.rows >= params.email_rows_per_part:
            if writer is not None:
                files.close(writer)
            part += 1
            writer = CsvExport(out, f"email/email_events_part-{part:03d}.csv.gz", "email_events",
                               w.seed, style=Style(ts=part_forms[part % 3]))
            inj = part_faults[part] if part < len(part_faults) else Injection(duplicates=1)
        for i in range(0, chunk.num_rows, slice_rows):
            writer.write(chunk.slice(i, slice_rows), inj if i == 0 else None)
    if writer is not None:
        files.close(writer)

    dm = dm_sends(w, acc, con, campaigns)
    sem = seminar_attendance(w, acc, con, campaigns)
    inq = collect_inquiries(w, acc, con, resp, dm, sem)
    cd = campaign_deals(w, inq, campaigns)
    subs = build_subscriptions(w, acc)
    won = np.flatnonzero(cd.deal_outcome == 1)
    w_cmp = inq.campaign[cd.lead_inquiry[cd.deal_lead[won]]]
    forced = forced_from_campaigns(
        w, inq.account[cd.lead_inquiry[cd.deal_lead[won]]], cd.deal_closed[won],
        [campaigns[i].family for i in w_cmp],
        np.array([campaigns[i].objective == "upsell" for i in w_cmp], dtype=bool), won)

    # invoices: one fiscal year per file (parts beyond invoice_rows_per_file)
    inv: dict[int, CsvExport] = {}
    fy_seen: list[int] = []
    inv_parts: dict[int, int] = {}

    def inv_style(i: int) -> tuple[Style, str]:
        if i == 0:
            return Style(date="slash", ts="jst_min", money_mess=0.03), ".csv"
        if i == 1:
            return Style(ts="jst", date_mix=0.03, money_mess=0.02), ".csv.gz"
        if i == 2:
            return Style(ts="iso_jst", money_mess=0.02), ".csv.gz"
        return Style(ts="iso_z", money_mess=0.02, date_mix=0.01), ".csv"

    inv_faults = (Injection(duplicates=3, bad=("bad_number", "wrong_column_count")),
                  Injection(duplicates=1, bad=("missing_key", "unknown_enum")))

    def sink(fy: int, table: pa.Table) -> None:
        if fy not in fy_seen:
            fy_seen.append(fy)
        i = fy_seen.index(fy)
        style, ext = inv_style(i)
        f = inv.get(fy)
        inj = None
        if f is None or f.rows + table.num_rows > params.invoice_rows_per_file:
            if f is not None:
                files.close(f)
            inv_parts[fy] = inv_parts.get(fy, 0) + 1
            f = CsvExport(out, f"billing/invoices_FY{fy}_p{inv_parts[fy]}{ext}", "invoices",
                          w.seed, style=style)
            inv[fy] = f
            if inv_parts[fy] == 1:
                inj = inv_faults[i] if i < len(inv_faults) else Injection(duplicates=1)
        for j in range(0, table.num_rows, slice_rows):
            f.write(table.slice(j, slice_rows), inj if j == 0 else None)

    od = simulate_invoices(w, acc, subs, forced, sink)
    for fy in fy_seen:
        files.close(inv[fy])

    deals, leads = build_deals_and_leads(w, acc, con, subs, od, inq, cd, campaigns)
    activities = build_activities(w, acc, con, subs, deals, inq, campaigns)
    nps = build_nps(w, acc)

    snap = date_of(w.snap_day).strftime("%Y%m%d")
    last = end.strftime("%Y%m%d")
    snap_end = ts_of_local(w.snap_day + 1, 0) - 1
    # crm/accounts: earlier re-export (UTF-8 BOM) and the full CP932 export with Japanese headers
    old = acc.table(old=True).filter(pa.array(acc.created <= snap_end))
    files.csv(f"crm/accounts_{snap}.csv", "accounts", old, slice_rows,
              Injection(duplicates=1, bad=("bad_number",)), encoding="utf-8-sig",
              style=Style(ts="jst"))
    files.csv(f"crm/accounts_{last}.csv", "accounts", acc.table(), slice_rows,
              Injection(duplicates=3, bad=("bad_date", "missing_key")), encoding="cp932",
              newline="\r\n", header="ja",
              style=Style(ts="jst", money_mess=0.05, int_mess=0.03, yen=False))
    files.csv("crm/contacts.csv", "contacts", con.table(acc), slice_rows,
              Injection(duplicates=2, bad=("wrong_column_count", "missing_key")),
              style=Style(ts="iso_jst", bools="hai_iie", bools_mix=0.3))
    files.csv("crm/leads.csv", "leads", leads, slice_rows, Injection(bad=("unknown_enum",)),
              style=Style(ts="jst", ts_mix=0.05))
    lead_ids = leads.column("lead_id").combine_chunks()
    d_old, _ = deals_table(w, acc, deals, campaigns, lead_ids, as_of_snapshot=True)
    d_new, _ = deals_table(w, acc, deals, campaigns, lead_ids, as_of_snapshot=False)
    files.csv(f"crm/deals_{snap}.csv.gz", "deals", d_old, slice_rows,
              Injection(duplicates=1, bad=("unknown_enum", "bad_number")),
              eligible=_not_campaign(d_old, seed_campaign.campaign_id),
              style=Style(ts="jst", money_mess=0.03))
    files.csv(f"crm/deals_{last}.csv", "deals", d_new, slice_rows, Injection(bad=("bad_date",)),
              eligible=_not_campaign(d_new, seed_campaign.campaign_id),
              header="salesforce", encoding="utf-8-sig", newline="\r\n", style=Style(ts="iso_z"))
    files.csv("crm/activities.csv.gz", "activities", activities, slice_rows,
              Injection(duplicates=2, bad=("bad_date",)),
              eligible=_not_campaign(activities, seed_campaign.campaign_id),
              style=Style(ts="jst_min", ts_mix=0.02))
    # this calendar year's responses come from the survey tool's JSON export
    responded = nps.column("responded_at").to_numpy()
    cutoff = ts_of_local((dt.date(end.year, 1, 1) - dt.date(1970, 1, 1)).days, 0)
    if responded.size and not (responded.min() < cutoff <= responded.max()):
        cutoff = int(np.median(responded))  # short custom ranges: split in the middle
    year = pa.array(responded >= cutoff)
    files.csv("crm/nps_responses.csv", "nps_responses", nps.filter(pc.invert(year)), slice_rows,
              Injection(bad=("bad_number",)), style=Style(ts="jst"))
    jf = JsonlExport(out, f"crm/nps_responses_{end.year}.jsonl", "nps_responses", w.seed)
    ny = nps.filter(year)
    for i in range(0, max(ny.num_rows, 1), slice_rows):
        jf.write(ny.slice(i, slice_rows),
                 Injection(duplicates=1, bad=("bad_date",)) if i == 0 else None)
    files.close(jf)
    (out / STRAY_FILE).write_text(
        f"{end.isoformat()} 02:00:01 export started (profile: nightly, locale ja_JP)\n"
        f"{end.isoformat()} 02:00:07 accounts: {acc.n} rows, encoding Shift_JIS\n"
        f"{end.isoformat()} 02:00:09 contacts: {con.n} rows\n"
        f"{end.isoformat()} 02:01:12 export finished\n", encoding="utf-8")

    pf = ParquetExport(out, "billing/products.parquet", "products", w.seed)
    pf.write(catalog.products_table())
    files.close(pf)
    files.csv("billing/subscriptions.csv", "subscriptions", subs.table(acc), slice_rows,
              Injection(duplicates=1, bad=("bad_date",)),
              style=Style(ts="iso_jst", date_mix=0.05))
    dm_table = dm[0]
    files.csv("email/dm_sends.csv", "dm_sends", dm_table, slice_rows,
              Injection(bad=("missing_key",)),
              eligible=_not_campaign(dm_table, seed_campaign.campaign_id),
              style=Style(date="slash"))
    files.csv("email/seminar_attendance.csv", "seminar_attendance", sem[0], slice_rows,
              Injection(duplicates=1, bad=("bad_number",)),
              style=Style(ts="jst_min", bools="maru_batsu", bools_mix=0.2))
    files.csv("plan/campaigns.csv", "campaigns", campaigns_table(campaigns), slice_rows,
              None, encoding="utf-8-sig", newline="\r\n", trailing_empty=2,
              style=Style(date="slash", money_mess=0.5))

    counts = {
        "accounts": acc.n,
        "contacts": con.n,
        "leads": leads.num_rows,
        "deals": deals.n,
        "activities": activities.num_rows,
        "nps_responses": nps.num_rows,
        "products": len(catalog.PRODUCTS),
        "invoices": od.lines,
        "subscriptions": int(np.unique(subs.v_sub).size),
        "subscription_versions": int(subs.v_sub.size),
        "email_events": resp.total_events,
        "dm_sends": dm_table.num_rows,
        "seminar_attendance": sem[0].num_rows,
        "campaigns": len(campaigns),
    }
    manifest = {
        "scale": params.name,
        "seed": w.seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "files": dict(sorted(files.entries.items())),
        "ignored": [STRAY_FILE],
        "counts": counts,
        "seed_dm_campaign": {"campaign_id": seed_campaign.campaign_id, **SEED_DM,
                             "attribution_window_days": seed_campaign.window},
        "notes": {
            "counts": "distinct records per dataset after newest-wins, duplicates collapsed "
                      "and bad rows quarantined (subscription_versions: all version rows)",
            "timestamps": "naive timestamps are Asia/Tokyo local time",
            "machine_user_agents": [email_ua for email_ua in _machine_uas()],
        },
    }
    assert set(counts) - {"subscription_versions"} == set(DATASETS)
    (out / "MANIFEST.json").write_text(
        json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _machine_uas() -> list[str]:
    from upsell.generate.email import MPP_UA, SCANNER_UA

    return [MPP_UA, SCANNER_UA]
