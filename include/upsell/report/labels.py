"""Bilingual labels the report shows (Japanese first, English beside it).

KPI names follow the spec's definitions (metrics.md: アップセル成約数 ÷ 既存顧客数 …);
CPM and RFM segment labels come from the marts themselves (cpm_segment_ja, rfm_segment_ja).
"""

from __future__ import annotations

KPI_LABELS = {
    "upsell_rate": "アップセル率 / upsell rate",
    "upsell_lead_quality": "リード品質 / upsell lead quality",
    "upsell_close_rate": "成約率 / close rate",
    "avg_ltv_lift_rate": "LTV 向上率 / LTV lift",
}

PDCA_KPI_LABELS = {
    "open_rate": "開封率 open",
    "click_rate": "クリック率 click",
    "reply_rate": "返信率 reply",
    "response_rate": "反響率 response",
    "attendees": "参加者 attendees",
    "inquiries": "問い合わせ inquiries",
    "deals": "受注 deals",
}

RATE_KPIS = {"open_rate", "click_rate", "reply_rate", "response_rate"}

STATUS_COLORS = {"met": "#2e7d32", "missed": "#c62828", "no_data": "#9e9e9e"}
STATUS_LABELS = {"met": "達成 met", "missed": "未達 missed", "no_data": "データなし no data"}

ACTION_LABELS = {"upsell": "アップセル upsell", "cross_sell": "クロスセル cross-sell"}

CHANNEL_LABELS = {"email": "メール email", "dm": "DM direct mail", "seminar": "セミナー seminar"}
