"""email/email_events: the email tool's tracking log, generated one campaign step at a time.

Per message: sent -> delivered or bounced -> human opens (repeat), clicks (repeat),
replies, unsubscribes. Machine events are mixed in the way real logs have them: Apple
Mail Privacy Protection prefetches (an open seconds after delivery, proxy user agent) and
corporate link scanners that open and click every link within seconds. Hard-bounced and
unsubscribed recipients drop out of later steps.

Chunks are yielded per (campaign, step) so L scale (50M events) never sits in memory;
replies and clicks are collected for the CRM side (inquiries, leads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from upsell.generate.accounts import Accounts, Contacts
from upsell.generate.campaigns import EMAIL_AUDIENCE_SHARE, Campaign
from upsell.generate.timeutil import DAY, ts_of_local
from upsell.generate.world import World, ids

EVENT_TYPES = ("sent", "delivered", "bounced", "opened", "clicked", "replied", "unsubscribed")
SENT, DELIVERED, BOUNCED, OPENED, CLICKED, REPLIED, UNSUBSCRIBED = range(7)

HUMAN_UA = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Thunderbird/115.12.0",
)
# What the email tool writes for machine traffic (both contain the token "proxy" or "scanner").
MPP_UA = "Mozilla/5.0 (AppleMailPrivacyProxy; image prefetch proxy)"
SCANNER_UA = "Mozilla/5.0 (compatible; MailSecurityScanner/4.2; link-check scanner)"
USER_AGENTS = HUMAN_UA + (MPP_UA, SCANNER_UA)
UA_MPP, UA_SCANNER = len(HUMAN_UA), len(HUMAN_UA) + 1
STEP_DECAY = (1.0, 0.9, 0.85, 0.8)


@dataclass
class EmailResponses:
    """Human replies and clicks, for inquiries and leads downstream."""

    reply_contact: list[np.ndarray] = field(default_factory=list)
    reply_ts: list[np.ndarray] = field(default_factory=list)
    reply_campaign: list[np.ndarray] = field(default_factory=list)
    click_contact: list[np.ndarray] = field(default_factory=list)
    click_ts: list[np.ndarray] = field(default_factory=list)
    click_campaign: list[np.ndarray] = field(default_factory=list)
    click_step: list[np.ndarray] = field(default_factory=list)
    total_events: int = 0
    total_messages: int = 0


def _urls(c: Campaign, step: int) -> list[str]:
    base = f"https://www.example.co.jp/lp/{c.campaign_id.lower()}/step{step}"
    tag = f"?utm_source=newsletter&utm_medium=email&utm_campaign={c.campaign_id}"
    return [base + tag, base + "/case-study" + tag]


def active_on(acc: Accounts, day: int) -> np.ndarray:
    """Accounts that are buying customers on ``day``."""
    return (acc.first_day <= day) & (acc.churn_day > day)


def email_chunks(w: World, acc: Accounts, con: Contacts, campaigns: list[Campaign],
                 out: EmailResponses) -> Iterator[pa.Table]:
    """Yield one event table per campaign step, in campaign order (deterministic ids)."""
    end_ts = ts_of_local(w.end_day + 1, 0) - 1
    ua_dict = pa.array(USER_AGENTS, pa.string())
    type_dict = pa.array(EVENT_TYPES, pa.string())
    for c in campaigns:
        if c.channel != "email":
            continue
        rng = w.rng("email", c.idx)
        s0 = c.send_days[0]
        eligible = (con.has_email & (con.created < ts_of_local(s0, 0))
                    & active_on(acc, s0)[con.account])
        audience = np.flatnonzero(eligible & (rng.random(con.n) < EMAIL_AUDIENCE_SHARE))
        alive = np.ones(audience.size, dtype=bool)
        for step in range(1, len(c.send_days) + 1):
            srng = w.rng("email", c.idx, step)
            pos = np.flatnonzero(alive)
            rec = audience[pos]
            m = rec.size
            if m == 0:
                continue
            sent = ts_of_local(c.send_days[step - 1], 10 * 3600) + srng.integers(0, 5400, m)
            bounced = con.hard_bounce[rec] | (srng.random(m) < 0.004)
            deliv = ~bounced
            t_deliv = sent + srng.integers(1, 40, m)
            eng = con.engagement[rec]
            p_open = np.clip(0.68 * eng * c.quality * STEP_DECAY[step - 1], 0, 0.95)
            human = deliv & (srng.random(m) < p_open)
            n_open = np.where(human, srng.geometric(0.55, m), 0)
            first_open = t_deliv + 60 + np.minimum(srng.lognormal(np.log(3 * 3600), 1.3, m),
                                                   14 * DAY).astype(np.int64)
            mpp = deliv & con.mpp[rec]
            mpp_fast = srng.random(m) < 0.7
            t_mpp = t_deliv + np.where(mpp_fast, srng.integers(1, 9, m), srng.integers(60, 1800, m))
            scan = deliv & acc.scanner[con.account[rec]]
            t_scan_open = t_deliv + srng.integers(1, 5, m)
            p_click = np.clip(0.32 * c.quality * (0.6 + eng), 0, 0.9)
            clicker = human & (srng.random(m) < p_click)
            n_click = np.where(clicker, srng.geometric(0.65, m), 0)
            first_click = first_open + srng.integers(20, 900, m)
            p_reply = 0.08 * c.quality * (0.5 + eng) * (1.4 if step == 4 else 1.0)
            replier = human & (srng.random(m) < p_reply)
            t_reply = first_open + srng.integers(600, 2 * DAY, m)
            unsub = deliv & (srng.random(m) < 0.006)
            t_unsub = np.where(human, first_open, t_deliv) + srng.integers(60, 3 * DAY, m)
            human_ua = (rec * 7 + 3) % len(HUMAN_UA)

            ev = _Events()
            add = ev.add
            allm = np.arange(m)
            add(allm, SENT, sent, -1, -1)
            b = np.flatnonzero(bounced)
            add(b, BOUNCED, sent[b] + srng.integers(2, 40, b.size), -1, -1)
            d = np.flatnonzero(deliv)
            add(d, DELIVERED, t_deliv[d], -1, -1)
            # human opens: the first, then repeats spread over the following days
            h = np.repeat(np.flatnonzero(human), n_open[human])
            rep_k = np.arange(h.size) - np.repeat(np.cumsum(n_open[human]) - n_open[human],
                                                  n_open[human])
            gaps = (srng.exponential(DAY, h.size) * (rep_k > 0)).astype(np.int64)
            t_h = first_open[h] + _group_cumsum(gaps, rep_k)
            add(h, OPENED, t_h, -1, human_ua[h])
            k = np.flatnonzero(mpp)
            add(k, OPENED, t_mpp[k], -1, UA_MPP)
            s = np.flatnonzero(scan)
            add(s, OPENED, t_scan_open[s], -1, UA_SCANNER)
            add(s, CLICKED, t_deliv[s] + srng.integers(2, 9, s.size), 0, UA_SCANNER)
            add(s, CLICKED, t_deliv[s] + srng.integers(2, 9, s.size), 1, UA_SCANNER)
            cl = np.repeat(np.flatnonzero(clicker), n_click[clicker])
            cl_k = np.arange(cl.size) - np.repeat(np.cumsum(n_click[clicker]) - n_click[clicker],
                                                  n_click[clicker])
            cgaps = (srng.exponential(2 * 3600, cl.size) * (cl_k > 0)).astype(np.int64)
            add(cl, CLICKED, first_click[cl] + _group_cumsum(cgaps, cl_k),
                srng.integers(0, 2, cl.size), human_ua[cl])
            r = np.flatnonzero(replier)
            add(r, REPLIED, t_reply[r], -1, -1)
            u = np.flatnonzero(unsub)
            add(u, UNSUBSCRIBED, t_unsub[u], -1, -1)

            msg, typ, t, url_i, ua_i = ev.arrays()
            keep = t <= end_ts
            order = np.lexsort((typ, msg, t))
            order = order[keep[order]]
            msg, typ, t, url_i, ua_i = msg[order], typ[order], t[order], url_i[order], ua_i[order]
            n = msg.size
            ev0 = out.total_events
            m0 = out.total_messages
            out.total_events += n
            out.total_messages += m
            url_dict = pa.array(_urls(c, step), pa.string())
            yield pa.table({
                "event_id": ids("EV", np.arange(ev0 + 1, ev0 + n + 1), 10),
                "campaign_id": pa.DictionaryArray.from_arrays(
                    pa.array(np.zeros(n, dtype=np.int32)), pa.array([c.campaign_id])),
                "step": pa.array(np.full(n, step, dtype=np.int64)),
                "message_id": ids("MSG", m0 + 1 + msg, 9),
                "recipient_email": con.email.take(pa.array(rec[msg])),
                "event_type": pa.DictionaryArray.from_arrays(pa.array(typ.astype(np.int32)),
                                                             type_dict),
                "occurred_at": pa.array(t),
                "url": pa.DictionaryArray.from_arrays(
                    pa.array(url_i.astype(np.int32), mask=url_i < 0), url_dict),
                "user_agent": pa.DictionaryArray.from_arrays(
                    pa.array(ua_i.astype(np.int32), mask=ua_i < 0), ua_dict),
            })
            rk = replier & (t_reply <= end_ts)
            out.reply_contact.append(rec[rk])
            out.reply_ts.append(t_reply[rk])
            out.reply_campaign.append(np.full(int(rk.sum()), c.idx))
            ck = clicker & (first_click <= end_ts)
            out.click_contact.append(rec[ck])
            out.click_ts.append(first_click[ck])
            out.click_campaign.append(np.full(int(ck.sum()), c.idx))
            out.click_step.append(np.full(int(ck.sum()), step))
            alive[pos[con.hard_bounce[rec] | unsub]] = False


class _Events:
    """Event columns collected as whole arrays per event kind, concatenated once."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, msg: np.ndarray, typ: int, t: np.ndarray, url: np.ndarray | int,
            ua: np.ndarray | int) -> None:
        k = msg.size
        self.parts.append((msg, np.full(k, typ, dtype=np.int8), np.asarray(t, dtype=np.int64),
                           np.broadcast_to(np.asarray(url, dtype=np.int64), (k,)),
                           np.broadcast_to(np.asarray(ua, dtype=np.int64), (k,))))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(5))


def _group_cumsum(values: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting where rank == 0 (values are already grouped)."""
    total = np.cumsum(values)
    starts = np.flatnonzero(rank == 0)
    base = np.repeat(total[starts] - values[starts], np.diff(np.append(starts, values.size)))
    return total - base
