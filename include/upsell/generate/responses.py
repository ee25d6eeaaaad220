"""Campaign execution outside email, and what every campaign leads to in the CRM.

email/dm_sends and email/seminar_attendance are generated here; then responses from all
channels become ``inquiry`` activities carrying the campaign id, some inquiries become
leads, some leads become deals, and won deals are handed to billing to be invoiced. All
of it lands inside the campaign's attribution window, mostly.

The seed DM campaign is pinned: 1,000 sends, 10 undeliverable, 18 inquiries -> 12 leads
-> 9 deals -> 4 won and 5 lost, all closed inside the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from upsell.generate.accounts import Accounts, Contacts, random_contact
from upsell.generate.campaigns import DM_LIST_SHARE, SEED_DM, SEMINAR_SHARE, Campaign
from upsell.generate.email import EmailResponses, active_on
from upsell.generate.timeutil import DAY, business_seconds, local_day, to_weekday, ts_of_local
from upsell.generate.world import World


@dataclass
class Inquiries:
    account: np.ndarray
    contact: np.ndarray  # -1: none
    campaign: np.ndarray  # campaign index
    ts: np.ndarray


@dataclass
class CampaignDeals:
    """Leads and deals that campaigns produced (indices into the inquiries/leads arrays)."""

    lead_inquiry: np.ndarray  # [lead] -> inquiry index
    lead_ts: np.ndarray
    lead_has_deal: np.ndarray
    deal_lead: np.ndarray  # [deal] -> lead index
    deal_created: np.ndarray
    deal_closed: np.ndarray  # ts; -1 when still open
    deal_outcome: np.ndarray  # 0 open, 1 won, 2 lost


def _pick(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=min(k, n), replace=False)] = True
    return mask


def dm_sends(w: World, acc: Accounts, con: Contacts, campaigns: list[Campaign]
             ) -> tuple[pa.Table, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """email/dm_sends plus the DM inquiries (account, campaign, ts)."""
    tabs = []
    inq_acc, inq_cmp, inq_ts = [], [], []
    for c in campaigns:
        if c.channel != "dm":
            continue
        rng = w.rng("dm", c.idx)
        day = c.send_days[0]
        if c.seed_example:
            size = SEED_DM["list_size"]
            eligible = np.flatnonzero(acc.created < ts_of_local(day, 0))
            if eligible.size < size:  # small custom ranges: top up with the oldest accounts
                rest = np.setdiff1d(np.argsort(acc.created, kind="stable"), eligible)
                eligible = np.concatenate([eligible, rest[: size - eligible.size]])
        else:
            size = max(50, round(acc.n * DM_LIST_SHARE))
            eligible = np.flatnonzero(active_on(acc, day))
        chosen = np.sort(rng.choice(eligible, size=min(size, eligible.size), replace=False))
        n = chosen.size
        if c.seed_example:
            undeliverable = _pick(rng, n, SEED_DM["undeliverable"])
            responders = np.flatnonzero(~undeliverable)
            resp = np.zeros(n, dtype=bool)
            resp[rng.choice(responders, SEED_DM["inquiries"], replace=False)] = True
            delay = 1 + rng.gamma(2.0, 5.0, n).clip(0, 40)
        else:
            undeliverable = rng.random(n) < 0.015
            resp = ~undeliverable & (rng.random(n) < 0.017 * c.quality)
            delay = 1 + rng.gamma(2.0, 6.0, n).clip(0, 55)
        code = f"{c.campaign_id[6:10]}{c.campaign_id[11:]}"  # CMP-202506-DM1 -> 2506DM1
        tabs.append(pa.table({
            "campaign_id": pa.array([c.campaign_id] * n, pa.string()),
            "account_id": acc.account_id.take(pa.array(chosen)),
            "campaign_code": pa.array([code] * n, pa.string()),
            "address_status": pa.array(np.where(undeliverable, "undeliverable", "delivered").tolist()),
            "sent_at": pa.array(np.full(n, day, dtype=np.int64)),
        }))
        r = np.flatnonzero(resp)
        inq_acc.append(chosen[r])
        inq_cmp.append(np.full(r.size, c.idx))
        inq_ts.append(ts_of_local(to_weekday(day + delay[r].astype(np.int64)),
                                  business_seconds(rng, r.size)))
    return pa.concat_tables(tabs), inq_acc, inq_cmp, inq_ts


def seminar_attendance(w: World, acc: Accounts, con: Contacts, campaigns: list[Campaign]
                       ) -> tuple[pa.Table, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """email/seminar_attendance plus the inquiries of attendees (contact, campaign, ts)."""
    tabs = []
    inq_con, inq_cmp, inq_ts = [], [], []
    for c in campaigns:
        if c.channel != "seminar":
            continue
        rng = w.rng("seminar", c.idx)
        day = c.send_days[0]
        eligible = (con.has_email & (con.created < ts_of_local(c.start_day, 0))
                    & active_on(acc, day)[con.account])
        reg = np.flatnonzero(eligible & (rng.random(con.n) < SEMINAR_SHARE * c.quality))
        n = reg.size
        reg_day = c.start_day + (rng.beta(2.0, 1.3, n) * (day - c.start_day - 1)).astype(np.int64)
        registered = ts_of_local(reg_day, (rng.uniform(0, 24, n) * 3600).astype(np.int64))
        attended = rng.random(n) < 0.62
        score = rng.choice(5, n, p=[0.04, 0.08, 0.2, 0.4, 0.28]) + 1
        has_score = attended & (rng.random(n) < 0.85)
        tabs.append(pa.table({
            "campaign_id": pa.array([c.campaign_id] * n, pa.string()),
            "contact_email": con.email.take(pa.array(reg)),
            "account_id": acc.account_id.take(pa.array(con.account[reg])),
            "registered_at": pa.array(registered),
            "attended": pa.array(attended),
            "feedback_score": pa.array(score, mask=~has_score),
        }))
        r = np.flatnonzero(attended & (rng.random(n) < 0.15 * (0.5 + score / 5)))
        inq_con.append(reg[r])
        inq_cmp.append(np.full(r.size, c.idx))
        inq_ts.append(ts_of_local(to_weekday(day + rng.integers(1, 21, r.size)),
                                  business_seconds(rng, r.size)))
    return pa.concat_tables(tabs), inq_con, inq_cmp, inq_ts


def collect_inquiries(w: World, acc: Accounts, con: Contacts, email: EmailResponses,
                      dm: tuple, seminar: tuple) -> Inquiries:
    """All campaign inquiries, sorted by time."""
    rng = w.rng("inquiries")
    parts_acc, parts_con, parts_cmp, parts_ts = [], [], [], []
    # email replies: a third turn into an inquiry; landing-page forms from some clickers
    rc = np.concatenate(email.reply_contact) if email.reply_contact else np.array([], int)
    rt = np.concatenate(email.reply_ts) if email.reply_ts else np.array([], int)
    rcmp = np.concatenate(email.reply_campaign) if email.reply_campaign else np.array([], int)
    k = rng.random(rc.size) < 0.35
    parts_con.append(rc[k])
    parts_acc.append(con.account[rc[k]])
    parts_cmp.append(rcmp[k])
    parts_ts.append(rt[k] + rng.integers(3600, 3 * DAY, int(k.sum())))
    cc = np.concatenate(email.click_contact) if email.click_contact else np.array([], int)
    ct = np.concatenate(email.click_ts) if email.click_ts else np.array([], int)
    ccmp = np.concatenate(email.click_campaign) if email.click_campaign else np.array([], int)
    cstep = np.concatenate(email.click_step) if email.click_step else np.array([], int)
    k = (cstep >= 2) & (rng.random(cc.size) < 0.03)
    parts_con.append(cc[k])
    parts_acc.append(con.account[cc[k]])
    parts_cmp.append(ccmp[k])
    parts_ts.append(ct[k] + rng.integers(120, 7200, int(k.sum())))
    # direct mail: the reply card or the DM-only form carries the campaign code
    dm_acc = np.concatenate(dm[1])
    parts_acc.append(dm_acc)
    parts_con.append(random_contact(rng, con, dm_acc))
    parts_cmp.append(np.concatenate(dm[2]))
    parts_ts.append(np.concatenate(dm[3]))
    sem_con = np.concatenate(seminar[1])
    parts_con.append(sem_con)
    parts_acc.append(con.account[sem_con])
    parts_cmp.append(np.concatenate(seminar[2]))
    parts_ts.append(np.concatenate(seminar[3]))
    a = np.concatenate(parts_acc).astype(np.int64)
    c = np.concatenate(parts_con).astype(np.int64)
    m = np.concatenate(parts_cmp).astype(np.int64)
    t = np.concatenate(parts_ts).astype(np.int64)
    end_ts = ts_of_local(w.end_day + 1, 0) - 1
    keep = t <= end_ts
    order = np.lexsort((a, m, t))
    order = order[keep[order]]
    return Inquiries(a[order], c[order], m[order], t[order])


def campaign_deals(w: World, inq: Inquiries, campaigns: list[Campaign]) -> CampaignDeals:
    """Inquiry -> lead -> deal -> outcome, with the seed campaign pinned."""
    rng = w.rng("campaign_deals")
    n = inq.ts.size
    end_ts = ts_of_local(w.end_day + 1, 0) - 1
    seed_idx = next(c.idx for c in campaigns if c.seed_example)
    is_seed = inq.campaign == seed_idx
    to_lead = rng.random(n) < 0.7
    s = np.flatnonzero(is_seed)
    to_lead[s] = _pick(rng, s.size, 12)
    lead_inq = np.flatnonzero(to_lead)
    lead_ts = np.minimum(inq.ts[lead_inq] + rng.integers(1800, 2 * DAY, lead_inq.size), end_ts)
    nl = lead_inq.size
    lead_seed = is_seed[lead_inq]
    has_deal = rng.random(nl) < 0.6
    ls = np.flatnonzero(lead_seed)
    has_deal[ls] = _pick(rng, ls.size, 9)
    deal_lead = np.flatnonzero(has_deal)
    nd = deal_lead.size
    created = lead_ts[deal_lead] + rng.integers(DAY, 14 * DAY, nd)
    u = rng.random(nd)
    outcome = np.where(u < 0.33, 1, 2)  # deals still open are only the recent ones (below)
    dseed = np.flatnonzero(lead_seed[deal_lead])
    won_seed = _pick(rng, dseed.size, SEED_DM["won_deals"])
    outcome[dseed] = np.where(won_seed, 1, 2)
    cycle = np.where(lead_seed[deal_lead], rng.integers(14 * DAY, 40 * DAY, nd),
                     rng.integers(14 * DAY, 75 * DAY, nd))
    closed = created + cycle
    # keep closings in office hours on the local day they land on
    closed = ts_of_local(to_weekday(local_day(closed)), business_seconds(rng, nd))
    late = (closed > end_ts) | (created > end_ts)
    outcome = np.where(late, 0, outcome)
    closed = np.where(outcome == 0, -1, closed)
    created = np.minimum(created, end_ts - 3600)
    return CampaignDeals(lead_inquiry=lead_inq, lead_ts=lead_ts, lead_has_deal=has_deal,
                         deal_lead=deal_lead, deal_created=created, deal_closed=closed,
                         deal_outcome=outcome)
