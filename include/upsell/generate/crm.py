"""crm/deals, crm/leads, crm/activities, crm/nps_responses.

Deals come from what actually happened: orders sales booked (new customer, upsell up a
tier, cross-sell into a new family), subscription events (new, expansion, upgrade,
renewal), and campaign leads; lost deals are added so upsell close rates land near the
20-30 % the seeds quote, and an open pipeline exists at the end. Leads, activities and NPS
are tied to the same accounts, contacts and campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from upsell.generate import catalog, names
from upsell.generate.accounts import Accounts, Contacts, random_contact
from upsell.generate.billing import FAM, FAM_IDX, OrderDeals
from upsell.generate.campaigns import Campaign
from upsell.generate.responses import CampaignDeals, Inquiries
from upsell.generate.subscriptions import CROSS_SELL, NEW, UPSELL, Subs
from upsell.generate.timeutil import DAY, business_seconds, date_of, day_of, to_weekday, ts_of_local
from upsell.generate.world import World, ids

DEAL_TYPES = ("new", "upsell", "cross_sell", "renewal")  # codes NEW, UPSELL, CROSS_SELL, RENEWAL
STAGES = ("prospecting", "proposal", "negotiation", "won", "lost")
PROSPECTING, PROPOSAL, NEGOTIATION, WON, LOST = range(5)
LEAD_TYPES = ("new", "upsell", "cross_sell")
LEAD_STATUS = ("open", "qualified", "disqualified", "converted")
ACTIVITY_TYPES = ("call", "meeting", "inquiry", "support_ticket", "consultation")


@dataclass
class Deals:
    account: np.ndarray
    kind: np.ndarray
    stage: np.ndarray
    amount: np.ndarray
    product: np.ndarray
    lead: np.ndarray  # index into leads (sorted), -1
    campaign: np.ndarray  # campaign index, -1
    created: np.ndarray
    closed: np.ndarray  # -1 when open
    updated: np.ndarray

    @property
    def n(self) -> int:
        return self.account.size


def _estimate_amount(rng: np.random.Generator, product: np.ndarray, emp: np.ndarray) -> np.ndarray:
    fam = np.array([catalog.PRODUCTS[p].family for p in range(len(catalog.PRODUCTS))])[product]
    q = np.ones(product.size)
    dev = np.isin(fam, ["pc", "monitor"])
    q[dev] = np.clip(np.round(emp[dev] * 0.05), 1, 200)
    sec = fam == "security_training"
    q[sec] = np.clip(np.round(emp[sec] * 0.12), 5, 300)
    subs = np.isin(fam, list(catalog.SUB_FAMILIES))
    q[subs] = 12 * np.clip(np.round(emp[subs] * 0.6), 1, 5000)
    return (np.round(catalog.PRICE[product] * q * rng.uniform(0.85, 1.0, product.size) / 1000)
            * 1000).astype(np.int64)


def _stage_by_age(rng: np.random.Generator, age_days: np.ndarray) -> np.ndarray:
    jitter = rng.integers(-10, 10, age_days.size)
    a = age_days + jitter
    return np.where(a < 30, PROSPECTING, np.where(a < 70, PROPOSAL, NEGOTIATION))


def build_deals_and_leads(w: World, acc: Accounts, con: Contacts, subs: Subs, od: OrderDeals,
                          inq: Inquiries, cd: CampaignDeals, campaigns: list[Campaign]
                          ) -> tuple[Deals, pa.Table]:
    rng = w.rng("deals")
    end_ts = ts_of_local(w.end_day + 1, 0) - 1
    tt = catalog.tier_table()
    # 1. organic order deals (won), realized campaign orders give amount/product to campaign deals
    o_acc, o_day, o_kind = od.get("account"), od.get("day"), od.get("kind")
    o_prod, o_amt, o_ref = od.get("product"), od.get("amount"), od.get("forced_ref")
    org = o_ref < 0
    n_o = int(org.sum())
    closed_o = ts_of_local(to_weekday(o_day[org] - rng.integers(0, 10, n_o)), business_seconds(rng, n_o))
    created_o = closed_o - rng.integers(14, 90, n_o) * DAY
    closed_o = np.maximum(closed_o, created_o + 3600)
    # 2. campaign deals
    nd = cd.deal_lead.size
    c_inq = cd.lead_inquiry[cd.deal_lead]
    c_acc = inq.account[c_inq]
    c_cmp = inq.campaign[c_inq]
    c_obj_up = np.array([campaigns[i].objective == "upsell" for i in c_cmp], dtype=bool)
    c_fam = np.array([FAM.index(campaigns[i].family) for i in c_cmp], dtype=np.int64)
    c_prod = tt[FAM_IDX[c_fam], np.where(c_obj_up, 2, 1)]
    c_amt = _estimate_amount(rng, c_prod, acc.employees[c_acc])
    won_ref = o_ref[~org]
    c_prod[won_ref] = o_prod[~org]
    c_amt[won_ref] = o_amt[~org]
    c_stage = np.where(cd.deal_outcome == 1, WON, np.where(cd.deal_outcome == 2, LOST, -1))
    open_c = c_stage < 0
    c_stage[open_c] = _stage_by_age(rng, (end_ts - cd.deal_created[open_c]) // DAY)
    # 3. lost deals and 4. open pipeline
    won_up = int((o_kind[org] == UPSELL).sum() + ((subs.d_kind == UPSELL) & (subs.d_won == 1)).sum())
    won_cross = int((o_kind[org] == CROSS_SELL).sum()
                    + ((subs.d_kind == CROSS_SELL) & (subs.d_won == 1)).sum())
    customers = np.flatnonzero(acc.first_day <= w.end_day)
    n_lost_up, n_lost_cross = round(2.3 * won_up), round(1.2 * won_cross)
    n_lost = n_lost_up + n_lost_cross
    l_acc = rng.choice(customers, n_lost) if customers.size else np.array([], int)
    lo = np.maximum(acc.first_day[l_acc], w.start_day)
    hi = np.minimum(acc.churn_day[l_acc], w.end_day) - 20
    ok = hi > lo
    l_acc, lo, hi = l_acc[ok], lo[ok], hi[ok]
    n_lost = l_acc.size
    l_kind = np.where(np.arange(n_lost) < n_lost_up, UPSELL, CROSS_SELL)
    l_created = ts_of_local(lo + (rng.random(n_lost) * (hi - lo)).astype(np.int64),
                            business_seconds(rng, n_lost))
    l_closed = l_created + rng.integers(14, 90, n_lost) * DAY
    l_fam = rng.choice(len(FAM), n_lost, p=[0.45, 0.2, 0.15, 0.2])
    max_tier = np.array([catalog.max_tier(f) for f in FAM])
    l_tier = np.where(l_kind == UPSELL,
                      np.minimum(2 + (rng.random(n_lost) < 0.4), max_tier[l_fam]), 1)
    l_prod = tt[FAM_IDX[l_fam], l_tier]
    l_stage = np.where(l_closed > end_ts, -1, LOST)
    l_stage[l_stage < 0] = _stage_by_age(rng, (end_ts - l_created[l_stage < 0]) // DAY)
    active_end = np.flatnonzero((acc.first_day <= w.end_day) & (acc.churn_day > w.end_day))
    n_open = round(active_end.size * 0.05)
    p_acc = np.sort(rng.choice(active_end, n_open, replace=False)) if n_open else np.array([], int)
    p_created = ts_of_local(w.end_day - rng.integers(1, 120, n_open), business_seconds(rng, n_open))
    p_kind = rng.choice(4, n_open, p=[0.1, 0.5, 0.3, 0.1])
    p_fam = rng.choice(len(FAM), n_open)
    p_prod = tt[FAM_IDX[p_fam], np.where(p_kind == UPSELL, 2, 1)]
    p_stage = _stage_by_age(rng, (end_ts - p_created) // DAY)

    s_stage = np.where(subs.d_won == 1, WON, LOST)
    account = np.concatenate([o_acc[org], subs.d_account, c_acc, l_acc, p_acc])
    kind = np.concatenate([o_kind[org], subs.d_kind, np.where(c_obj_up, UPSELL, CROSS_SELL),
                           l_kind, p_kind])
    stage = np.concatenate([np.full(n_o, WON), s_stage, c_stage, l_stage, p_stage])
    product = np.concatenate([o_prod[org], subs.d_product, c_prod, l_prod, p_prod])
    emp_l = acc.employees[np.concatenate([l_acc, p_acc])]
    est = _estimate_amount(rng, np.concatenate([l_prod, p_prod]), emp_l)
    amount = np.concatenate([o_amt[org], subs.d_amount, c_amt, est])
    created = np.concatenate([created_o, subs.d_created, cd.deal_created, l_created, p_created])
    closed = np.concatenate([closed_o, subs.d_closed, cd.deal_closed, l_closed,
                             np.full(n_open, -1)])
    closed = np.where(stage >= WON, closed, -1)
    campaign = np.concatenate([np.full(n_o + subs.d_account.size, -1), c_cmp,
                               np.full(n_lost + n_open, -1)])
    src = np.concatenate([np.zeros(n_o, int), np.ones(subs.d_account.size, int),
                          np.full(nd, 2), np.full(n_lost + n_open, 3)])
    src_idx = np.concatenate([np.arange(n_o), np.arange(subs.d_account.size), np.arange(nd),
                              np.arange(n_lost + n_open)])
    n = account.size
    updated = np.where(closed >= 0, np.minimum(closed + rng.integers(0, 2 * DAY, n), end_ts),
                       created + (rng.random(n) * (end_ts - created)).astype(np.int64))

    # leads: campaign leads, organic leads behind some deals, unconverted organic leads
    nl_c = cd.lead_inquiry.size
    lc_inq = cd.lead_inquiry
    lc_acc = inq.account[lc_inq]
    lc_con = inq.contact[lc_inq]
    lc_cmp = inq.campaign[lc_inq]
    lc_type = np.array([1 if campaigns[i].objective == "upsell" else 2 for i in lc_cmp], dtype=np.int64)
    lc_created = cd.lead_ts
    # organic leads behind 20 % of organic upsell/cross-sell deals and 40 % of new ones
    behind = (src == 0) & (((kind == UPSELL) | (kind == CROSS_SELL)) & (rng.random(n) < 0.2)
                           | ((kind == NEW) & (rng.random(n) < 0.4)))
    bi = np.flatnonzero(behind)
    lo_created = created[bi] - rng.integers(1, 20, bi.size) * DAY
    lo_type = np.where(kind[bi] == NEW, 0, np.where(kind[bi] == UPSELL, 1, 2))
    lo_con = random_contact(rng, con, account[bi])
    # unconverted organic leads
    n_u = round(1.2 * bi.size)
    u_acc = rng.choice(customers, n_u) if customers.size else np.array([], int)
    u_created = ts_of_local(w.start_day + (rng.random(n_u) * (w.end_day - w.start_day)).astype(np.int64),
                            business_seconds(rng, n_u))
    u_type = rng.choice([1, 2], n_u, p=[0.6, 0.4])
    u_con = random_contact(rng, con, u_acc)
    n_new = round(0.1 * acc.n)
    nw_created = ts_of_local(w.start_day + (rng.random(n_new) * (w.end_day - w.start_day)).astype(np.int64),
                             business_seconds(rng, n_new))
    nw_email = pc.binary_join_element_wise(
        "info@p", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n_new + 1)), pa.string()), 6,
                               padding="0"), ".example.co.jp", "")
    # statuses of unconverted leads
    def unconverted_status(created_ts: np.ndarray) -> np.ndarray:
        k = created_ts.size
        u = rng.random(k)
        st = np.where(u < 0.45, 2, 1)
        recent = created_ts > end_ts - 60 * DAY
        return np.where(recent & (rng.random(k) < 0.7), 0, st)

    lc_status = np.where(cd.lead_has_deal, 3, unconverted_status(lc_created))
    l_account = np.concatenate([lc_acc, np.where(lo_type == 0, -1, account[bi]), u_acc,
                                np.full(n_new, -1)])
    con_email_all = con.email
    l_email = pa.concat_arrays([
        con_email_all.take(pa.array(lc_con)),
        con_email_all.take(pa.array(lo_con)),
        con_email_all.take(pa.array(u_con)),
        nw_email,
    ])
    l_campaign = np.concatenate([lc_cmp, np.full(bi.size + n_u + n_new, -1)])
    l_type = np.concatenate([lc_type, lo_type, u_type, np.zeros(n_new, dtype=np.int64)])
    l_status = np.concatenate([lc_status, np.full(bi.size, 3), unconverted_status(u_created),
                               unconverted_status(nw_created)])
    l_created = np.concatenate([lc_created, lo_created, u_created, nw_created])
    # the deal each converted lead became (deal position before sorting), for updated_at
    deal_of_lead = np.concatenate([
        np.full(nl_c, -1), bi, np.full(n_u + n_new, -1)])
    c_pos = np.flatnonzero(src == 2)  # campaign deals in deal order
    deal_of_lead[cd.deal_lead] = c_pos
    nlead = l_created.size
    l_updated = np.where(deal_of_lead >= 0, created[np.maximum(deal_of_lead, 0)],
                         np.minimum(l_created + rng.integers(DAY, 30 * DAY, nlead), end_ts))
    l_updated = np.maximum(l_updated, l_created)
    lord = np.lexsort((np.arange(nlead), l_created))
    lead_rank = np.empty(nlead, dtype=np.int64)
    lead_rank[lord] = np.arange(nlead)
    lead_id_sorted = ids("LD-", np.arange(1, nlead + 1), 7)
    # deals point at their lead
    deal_lead = np.full(n, -1, dtype=np.int64)
    has = deal_of_lead >= 0
    deal_lead[deal_of_lead[has]] = lead_rank[np.flatnonzero(has)]

    cids = pa.array([c.campaign_id for c in campaigns], pa.string())

    def take_or_null(values: pa.Array, idx: np.ndarray) -> pa.Array:
        return values.take(pa.array(np.maximum(idx, 0), mask=idx < 0))

    leads = pa.table({
        "lead_id": lead_id_sorted,
        "account_id": take_or_null(acc.account_id, l_account[lord]),
        "contact_email": l_email.take(pa.array(lord)),
        "campaign_id": take_or_null(cids, l_campaign[lord]),
        "lead_type": pa.array(np.array(LEAD_TYPES, dtype=object)[l_type[lord]].tolist(), pa.string()),
        "status": pa.array(np.array(LEAD_STATUS, dtype=object)[l_status[lord]].tolist(), pa.string()),
        "created_at": pa.array(l_created[lord]),
        "updated_at": pa.array(l_updated[lord]),
    })
    order = np.lexsort((src_idx, src, created))
    deals = Deals(account=account[order], kind=kind[order], stage=stage[order],
                  amount=amount[order], product=product[order], lead=deal_lead[order],
                  campaign=campaign[order], created=created[order], closed=closed[order],
                  updated=updated[order])
    return deals, leads


def deals_table(w: World, acc: Accounts, deals: Deals, campaigns: list[Campaign],
                lead_ids: pa.Array, as_of_snapshot: bool) -> tuple[pa.Table, np.ndarray]:
    """Deals as exported; ``as_of_snapshot`` gives the earlier re-export's rows and values.

    Returns (table, row positions) so the caller knows which deals a file carries.
    """
    rng = w.rng("deals_snapshot")
    snap_end = ts_of_local(w.snap_day + 1, 0) - 1
    stage, closed, updated, amount = deals.stage.copy(), deals.closed.copy(), deals.updated.copy(), \
        deals.amount.copy()
    if as_of_snapshot:
        rows = np.flatnonzero(deals.created <= snap_end)
        later = deals.updated > snap_end
        closed_later = later & (deals.closed > snap_end)
        stage = np.where(closed_later, np.where(rng.random(deals.n) < 0.5, NEGOTIATION, PROPOSAL), stage)
        closed = np.where(closed_later, -1, closed)
        open_later = later & (deals.closed < 0)
        stage = np.where(open_later, np.maximum(stage - 1, PROSPECTING), stage)
        amount = np.where(later & (stage < WON),
                          (np.round(amount * rng.uniform(0.85, 1.1, deals.n) / 1000) * 1000).astype(np.int64),
                          amount)
        span = np.maximum(snap_end - deals.created, 0)
        old_upd = deals.created + (rng.random(deals.n) * span).astype(np.int64)
        # closed before the snapshot but touched after it: the old row is the same deal as
        # it stood at closing
        updated = np.where(later, np.where(closed_later | open_later, old_upd, deals.closed),
                           updated)
    else:
        rows = np.flatnonzero(deals.updated > snap_end)
    ids_all = ids("DL-", np.arange(1, deals.n + 1), 7)
    cids = pa.array([c.campaign_id for c in campaigns], pa.string())
    r = pa.array(rows)
    lead = deals.lead[rows]
    cmp = deals.campaign[rows]
    cl = closed[rows]
    tbl = pa.table({
        "deal_id": ids_all.take(r),
        "account_id": acc.account_id.take(pa.array(deals.account[rows])),
        "deal_type": pa.array(np.array(DEAL_TYPES, dtype=object)[deals.kind[rows]].tolist(), pa.string()),
        "stage": pa.array(np.array(STAGES, dtype=object)[stage[rows]].tolist(), pa.string()),
        "amount_jpy": pa.array(amount[rows]),
        "product_code": pa.array(catalog.CODES[deals.product[rows]].tolist(), pa.string()),
        "lead_id": lead_ids.take(pa.array(np.maximum(lead, 0), mask=lead < 0)),
        "campaign_id": cids.take(pa.array(np.maximum(cmp, 0), mask=cmp < 0)),
        "owner": pa.array(names.SALES_REPS, pa.string()).take(pa.array(acc.rep[deals.account[rows]])),
        "created_at": pa.array(deals.created[rows]),
        "closed_at": pa.array(cl, mask=cl < 0),
        "updated_at": pa.array(updated[rows]),
    })
    return tbl, rows


def build_activities(w: World, acc: Accounts, con: Contacts, subs: Subs, deals: Deals,
                     inq: Inquiries, campaigns: list[Campaign]) -> pa.Table:
    rng = w.rng("activities")
    start, end = w.start_day, w.end_day
    end_ts = ts_of_local(end + 1, 0) - 1
    lo = np.maximum(np.maximum(acc.first_day, start), (acc.created + 9 * 3600) // DAY)
    hi = np.minimum(acc.churn_day, end)
    span_years = np.clip(hi - lo, 0, None) / 365.25
    has_sub = np.zeros(acc.n, dtype=bool)
    has_sub[subs.account] = True
    unhappy = 1 + np.clip(7 - acc.satisfaction, 0, None) / 2
    rates = {  # per account-year
        0: 1.5 * np.ones(acc.n),
        1: 0.8 * np.ones(acc.n),
        2: 0.3 * np.ones(acc.n),
        3: 0.45 * unhappy * (1 + has_sub),
        4: 0.3 * np.ones(acc.n),
    }
    a_acc, a_type, a_ts, a_cmp = [], [], [], []
    for typ, r in rates.items():
        k = rng.poisson(r * span_years)
        aa = np.repeat(np.arange(acc.n), k)
        d = lo[aa] + (rng.random(aa.size) * (hi[aa] - lo[aa] + 1)).astype(np.int64)
        d = np.minimum(to_weekday(d), end)
        a_acc.append(aa)
        a_type.append(np.full(aa.size, typ if typ != 4 else 2))
        a_ts.append(ts_of_local(d, business_seconds(rng, aa.size)))
        a_cmp.append(np.full(aa.size, -1))
    # a meeting shortly after each booked deal is opened
    dm = np.flatnonzero((deals.campaign < 0) & (rng.random(deals.n) < 0.3))
    t = deals.created[dm] + rng.integers(DAY, 10 * DAY, dm.size)
    a_acc.append(deals.account[dm])
    a_type.append(np.full(dm.size, 1))
    a_ts.append(t)
    a_cmp.append(np.full(dm.size, -1))
    # campaign inquiries
    a_acc.append(inq.account)
    a_type.append(np.full(inq.account.size, 2))
    a_ts.append(inq.ts)
    a_cmp.append(inq.campaign)
    acc_i = np.concatenate(a_acc)
    typ = np.concatenate(a_type)
    ts = np.concatenate(a_ts)
    cmp = np.concatenate(a_cmp)
    contact = random_contact(rng, con, acc_i)
    n_inq = inq.account.size
    if n_inq:
        tail = contact[-n_inq:]
        contact[-n_inq:] = np.where(inq.contact >= 0, inq.contact, tail)
    no_contact = (typ == 0) & (rng.random(acc_i.size) < 0.08)
    keep = ts <= end_ts
    order = np.lexsort((cmp, typ, acc_i, ts))
    order = order[keep[order]]
    n = order.size
    cids = pa.array([c.campaign_id for c in campaigns], pa.string())
    cm = cmp[order]
    email = con.email.take(pa.array(contact[order], mask=no_contact[order]))
    return pa.table({
        "activity_id": ids("ACT-", np.arange(1, n + 1), 8),
        "account_id": acc.account_id.take(pa.array(acc_i[order])),
        "contact_email": email,
        "activity_type": pa.DictionaryArray.from_arrays(pa.array(typ[order].astype(np.int32)),
                                                        pa.array(ACTIVITY_TYPES)),
        "campaign_id": cids.take(pa.array(np.maximum(cm, 0), mask=cm < 0)),
        "occurred_at": pa.array(ts[order]),
    })


def build_nps(w: World, acc: Accounts) -> pa.Table:
    """Surveys every May and November to ~30 % of the active customers."""
    rng = w.rng("nps")
    waves = []
    for year in range(w.start.year, w.end.year + 1):
        for month in (5, 11):
            d = day_of(date_of(w.start_day).replace(year=year, month=month, day=10))
            if w.start_day <= d <= w.end_day - 21:
                waves.append(d)
    a_acc, a_ts = [], []
    for d in waves:
        active = (acc.first_day <= d) & (acc.churn_day > d)
        resp = np.flatnonzero(active & (rng.random(acc.n) < 0.3))
        a_acc.append(resp)
        a_ts.append(ts_of_local(d + rng.integers(0, 21, resp.size),
                                (rng.uniform(8, 23, resp.size) * 3600).astype(np.int64)))
    aa = np.concatenate(a_acc) if a_acc else np.array([], int)
    ts = np.concatenate(a_ts) if a_ts else np.array([], int)
    score = np.clip(np.round(rng.normal(acc.satisfaction[aa], 1.4)), 0, 10).astype(np.int64)
    order = np.lexsort((aa, ts))
    n = order.size
    return pa.table({
        "response_id": ids("NPS-", np.arange(1, n + 1), 7),
        "account_id": acc.account_id.take(pa.array(aa[order])),
        "score": pa.array(score[order]),
        "responded_at": pa.array(ts[order]),
    })

