"""Word pools for fictional Japanese companies and people.

Names are random combinations of common words and surnames: realistic enough to exercise
encodings and width folding, never a real company's or person's record. E-mail addresses
live under example.co.jp subdomains.
"""

from __future__ import annotations

COMPANY_CORE = (
    "さくら", "富士", "青葉", "みらい", "東和", "大和", "北斗", "光洋", "昭和", "新日本",
    "東邦", "中央", "太平洋", "日の出", "若葉", "旭", "朝日", "明星", "千代田", "丸の内",
    "港南", "浜松", "札幌", "仙台", "横浜", "名古屋", "京阪", "神戸", "博多", "瀬戸内",
    "北陸", "信州", "湘南", "房総", "武蔵野", "多摩", "葵", "桜井", "高砂", "松風",
    "白鷺", "紅葉", "常盤", "菱和", "三和", "協和", "共栄", "栄光", "丸善", "山水",
    "清水", "大成", "豊和", "双葉", "一光", "永和", "誠和", "秀和", "アオイ", "サンライズ",
    "グリーン", "ブルースカイ", "フロンティア", "パシフィック", "ノース", "スマイル",
)

# (industry, weight, business words that fit it)
INDUSTRIES = (
    ("製造業", 0.24, ("工業", "精機", "製作所", "電機", "化学", "金属", "電子")),
    ("情報通信業", 0.14, ("システム", "テック", "ソフト", "ネットワークス", "データ", "ソリューションズ")),
    ("卸売業", 0.12, ("商事", "物産", "通商", "トレーディング")),
    ("小売業", 0.08, ("ストア", "商店", "販売", "リテール")),
    ("建設業", 0.10, ("建設", "工務店", "設備", "住建")),
    ("医療・福祉", 0.07, ("メディカル", "ケア", "ヘルスケア")),
    ("教育・学習支援業", 0.04, ("学院", "エデュケーション", "教育サービス")),
    ("金融・保険業", 0.04, ("ファイナンス", "保険サービス", "キャピタル")),
    ("不動産業", 0.05, ("不動産", "地所", "ハウジング")),
    ("運輸業", 0.05, ("運輸", "物流", "ロジスティクス")),
    ("サービス業", 0.07, ("サービス", "コンサルティング", "企画")),
)

# Names that need CP932's extension rows (NEC specials, IBM extensions): ①, ㈱, 髙, 﨑.
SPECIAL_NAMES = (
    "㈱髙橋製作所",
    "髙田システム株式会社",
    "①番館商事株式会社",
    "㈱サンライズ①",
    "株式会社髙島テクノ",
    "㈱﨑山電機",
    "第①物流株式会社",
    "髙野精機㈱",
)

PREFECTURES = (
    ("東京都", 0.32), ("大阪府", 0.11), ("神奈川県", 0.08), ("愛知県", 0.08), ("埼玉県", 0.05),
    ("千葉県", 0.04), ("福岡県", 0.05), ("兵庫県", 0.04), ("北海道", 0.04), ("京都府", 0.03),
    ("静岡県", 0.03), ("広島県", 0.03), ("宮城県", 0.03), ("茨城県", 0.02), ("新潟県", 0.02),
    ("長野県", 0.015), ("岡山県", 0.015), ("熊本県", 0.01), ("沖縄県", 0.01),
)

FAMILY_NAMES = (
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
    ("山崎", "yamazaki"), ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"),
    ("阿部", "abe"), ("石川", "ishikawa"), ("山下", "yamashita"), ("中島", "nakajima"),
    ("石井", "ishii"), ("小川", "ogawa"), ("前田", "maeda"), ("岡田", "okada"),
    ("長谷川", "hasegawa"), ("藤田", "fujita"), ("後藤", "goto"), ("近藤", "kondo"),
    ("村上", "murakami"), ("遠藤", "endo"), ("青木", "aoki"), ("坂本", "sakamoto"),
    ("髙木", "takagi"), ("柳田", "yanagida"),
)

GIVEN_NAMES = (
    ("太郎", "taro"), ("花子", "hanako"), ("健", "ken"), ("翔太", "shota"), ("大輔", "daisuke"),
    ("直樹", "naoki"), ("裕子", "yuko"), ("美咲", "misaki"), ("陽子", "yoko"), ("誠", "makoto"),
    ("浩", "hiroshi"), ("拓也", "takuya"), ("恵", "megumi"), ("彩", "aya"), ("亮", "ryo"),
    ("智子", "tomoko"), ("和也", "kazuya"), ("由美", "yumi"), ("隆", "takashi"),
    ("真理子", "mariko"), ("悠斗", "yuto"), ("結衣", "yui"), ("蓮", "ren"), ("愛", "ai"),
    ("修", "osamu"), ("聡", "satoshi"), ("久美子", "kumiko"), ("剛", "tsuyoshi"),
    ("明美", "akemi"), ("大樹", "daiki"),
)

# (department, weight): IT and general affairs buy PCs; field sales buys for its reps.
DEPARTMENTS = (
    ("情報システム部", 0.30), ("総務部", 0.22), ("フィールドセールス部", 0.10), ("経営企画部", 0.08),
    ("経理部", 0.07), ("人事部", 0.07), ("営業部", 0.08), ("製造部", 0.04), ("購買部", 0.04),
)
# Multi-line department values (Excel cell with Alt+Enter), with a comma inside.
MULTILINE_DEPARTMENTS = (
    "営業本部,\nフィールドセールス部",
    "管理本部\n総務部, 情報システム課",
)

# (title, weight, decision-maker probability)
TITLES = (
    ("担当", 0.34, 0.02), ("主任", 0.18, 0.05), ("係長", 0.14, 0.10), ("課長", 0.16, 0.35),
    ("部長", 0.11, 0.80), ("取締役", 0.05, 0.95), ("代表取締役", 0.02, 1.0),
)

# The reseller's own account executives (deal owners).
SALES_REPS = (
    "山田 一郎", "佐藤 美穂", "鈴木 健太", "田中 彩花", "高橋 大地", "伊藤 沙織", "渡辺 翼",
    "中村 千尋", "小林 海斗", "加藤 舞", "吉田 航", "松本 葵", "井上 拓海", "木村 優奈",
    "林 颯太", "清水 紗希", "森 陽向", "池田 遥", "橋本 湊", "石川 凛",
)
