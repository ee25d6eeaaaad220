"""plan/campaigns: the marketing plan (Plan in PDCA), one row per campaign.

Email campaigns push upsells (a 4-step scenario: interest, detail, case study, offer),
direct mail pushes cross-sells, seminars push upsells. The schedule is laid out over the
requested range, so any start/end works. One DM campaign reproduces the seed article's
example exactly: 1,000 pieces, 10 undeliverable, 18 inquiries, cost 1.5M JPY and 0.5M
JPY gross profit per deal (break-even = 3 deals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pyarrow as pa

from upsell.generate.timeutil import date_of, day_of, to_weekday
from upsell.generate.world import World

FAMILY_JA = {
    "pc": "ビジネスPC", "monitor": "4Kモニター", "printer": "カラー複合機",
    "security_training": "情報セキュリティ研修",
}
GP_PER_DEAL = {"pc": 300_000, "monitor": 120_000, "printer": 450_000, "security_training": 250_000}
SEED_DM = {"list_size": 1000, "undeliverable": 10, "inquiries": 18, "cost_jpy": 1_500_000,
           "gross_profit_per_deal_jpy": 500_000, "break_even_deals": 3, "won_deals": 4}

# Shares used to size audiences (and the targets planned on them).
EMAIL_AUDIENCE_SHARE = 0.16
DM_LIST_SHARE = 0.05
SEMINAR_SHARE = 0.012


@dataclass
class Campaign:
    idx: int
    campaign_id: str
    name: str
    channel: str
    objective: str
    family: str
    start_day: int
    end_day: int
    cost: int
    gp_per_deal: int
    window: int
    send_days: list[int]  # email: one per step; dm: the mailing; seminar: the event day
    targets: dict[str, float | int | None] = field(default_factory=dict)
    seed_example: bool = False
    quality: float = 1.0  # how well it lands (multiplies open/response rates)


def _monday_on_or_after(day: int) -> int:
    return day + (7 - (day + 3) % 7) % 7


def build_campaigns(w: World, n_accounts: int, n_contacts: int) -> list[Campaign]:
    rng = w.rng("campaigns")
    start, end = w.start_day, w.end_day
    out: list[Campaign] = []
    seq: dict[tuple[str, str], int] = {}

    def cid(day: int, code: str) -> str:
        d = date_of(day)
        key = (f"{d.year}{d.month:02d}", code)
        seq[key] = seq.get(key, 0) + 1
        return f"CMP-{key[0]}-{code}{seq[key]}"

    # email: a 4-step scenario every ~45 days
    fams = ("pc", "security_training", "pc", "monitor", "pc", "printer")
    day = _monday_on_or_after(start + 14) + 1  # Tuesdays
    k = 0
    while day + 28 <= end - 14:
        fam = fams[k % len(fams)]
        d = date_of(day)
        steps = [int(to_weekday(day + 7 * s)) for s in range(4)]
        audience = EMAIL_AUDIENCE_SHARE * n_contacts * 0.75
        strict = k % 3 != 2
        out.append(Campaign(
            idx=len(out), campaign_id=cid(day, "EM"),
            name=f"{d.year}年{d.month}月 {FAMILY_JA[fam]}アップグレードのご案内 (メール4回)",
            channel="email", objective="upsell", family=fam, start_day=day, end_day=day + 27,
            cost=int(rng.integers(15, 60)) * 10_000, gp_per_deal=GP_PER_DEAL[fam],
            window=90 if k % 5 else 60, send_days=steps,
            targets={"target_open_rate": 0.5 if strict else 0.45,
                     "target_click_rate": 0.2 if strict else 0.15,
                     "target_reply_rate": 0.1 if strict else 0.08,
                     "target_inquiries": max(3, round(audience * 0.02)),
                     "target_deals": max(1, round(audience * 0.005))},
            quality=float(rng.uniform(0.7, 1.35))))
        day += 45
        k += 1

    # direct mail: cross-sell, every ~150 days, plus the seed example
    seed_day = _monday_on_or_after(day_of(date_of(start + int((end - start) * 0.6)).replace(day=1)))
    dm_fams = ("printer", "security_training", "monitor", "printer")
    day = _monday_on_or_after(start + 60)
    k = 0
    while day + 30 <= end - 30:
        if abs(day - seed_day) > 40:
            fam = dm_fams[k % len(dm_fams)]
            size = max(50, round(n_accounts * DM_LIST_SHARE))
            cost = size * int(rng.integers(12, 20)) * 100
            gp = 500_000
            out.append(Campaign(
                idx=len(out), campaign_id=cid(day, "DM"),
                name=f"{date_of(day).year}年{date_of(day).month}月 {FAMILY_JA[fam]} クロスセルDM",
                channel="dm", objective="cross_sell", family=fam, start_day=day,
                end_day=day + 30, cost=cost, gp_per_deal=gp, window=90, send_days=[day],
                targets={"target_response_rate": 0.02, "target_inquiries": round(size * 0.02),
                         "target_deals": math.ceil(cost / gp)},
                quality=float(rng.uniform(0.5, 1.4))))
            k += 1
        day += 150
    out.append(Campaign(
        idx=len(out), campaign_id=cid(seed_day, "DM"),
        name=f"{date_of(seed_day).year}年{date_of(seed_day).month}月 情報セキュリティ研修 クロスセルDM (1,000通)",
        channel="dm", objective="cross_sell", family="security_training", start_day=seed_day,
        end_day=seed_day + 30, cost=SEED_DM["cost_jpy"],
        gp_per_deal=SEED_DM["gross_profit_per_deal_jpy"], window=90, send_days=[seed_day],
        targets={"target_response_rate": 0.02, "target_inquiries": 20,
                 "target_deals": SEED_DM["break_even_deals"]},
        seed_example=True))

    # seminars: upsell, every ~160 days; registration opens 30 days before
    sem = (("security_training", "情報セキュリティ対策セミナー"), ("pc", "PC入れ替え・Windows移行セミナー"),
           ("printer", "ペーパーレス・複合機活用セミナー"))
    day = _monday_on_or_after(start + 100) + 3  # Thursdays
    k = 0
    while day + 10 <= end - 20:
        fam, title = sem[k % len(sem)]
        regs = SEMINAR_SHARE * n_contacts * 0.8
        out.append(Campaign(
            idx=len(out), campaign_id=cid(day - 30, "SM"),
            name=f"{date_of(day).year}年{date_of(day).month}月 {title}",
            channel="seminar", objective="upsell", family=fam, start_day=day - 30, end_day=day,
            cost=int(rng.integers(8, 16)) * 100_000, gp_per_deal=GP_PER_DEAL[fam],
            window=120 if k % 4 == 3 else 90, send_days=[day],
            targets={"target_attendees": max(5, round(regs * 0.6)),
                     "target_inquiries": max(2, round(regs * 0.1)),
                     "target_deals": max(1, round(regs * 0.03))},
            quality=float(rng.uniform(0.7, 1.3))))
        day += 160
        k += 1
    out.sort(key=lambda c: (c.start_day, c.campaign_id))
    for i, c in enumerate(out):
        c.idx = i
    return out


TARGET_COLUMNS = ("target_open_rate", "target_click_rate", "target_reply_rate",
                  "target_response_rate", "target_attendees", "target_inquiries", "target_deals")


def campaigns_table(campaigns: list[Campaign]) -> pa.Table:
    cols: dict[str, list] = {
        "campaign_id": [c.campaign_id for c in campaigns],
        "campaign_name": [c.name for c in campaigns],
        "channel": [c.channel for c in campaigns],
        "objective": [c.objective for c in campaigns],
        "target_product_family": [c.family for c in campaigns],
        "start_date": [c.start_day for c in campaigns],
        "end_date": [c.end_day for c in campaigns],
        "cost_jpy": [c.cost for c in campaigns],
        "gross_profit_per_deal_jpy": [c.gp_per_deal for c in campaigns],
        "attribution_window_days": [c.window for c in campaigns],
    }
    for t in TARGET_COLUMNS:
        cols[t] = [c.targets.get(t) for c in campaigns]
    types = {t: (pa.float64() if t.endswith("_rate") else pa.int64()) for t in TARGET_COLUMNS}
    table = {}
    for k, v in cols.items():
        if k in ("start_date", "end_date", "cost_jpy", "gross_profit_per_deal_jpy",
                 "attribution_window_days"):
            table[k] = pa.array(v, pa.int64())
        elif k in types:
            table[k] = pa.array(v, types[k])
        else:
            table[k] = pa.array(v, pa.string())
    return pa.table(table)
