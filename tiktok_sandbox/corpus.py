"""Words and sentences the sandbox builds its accounts and comments from.

Everything here is immutable data. ``{product}`` in an English line is replaced by the
advertiser's product noun.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# name, company, timezone, currency, country, product noun
ADVERTISER_PRESETS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Northwind Sneakers", "Northwind Retail Inc.", "America/New_York", "USD", "US", "sneakers"),
    ("Kaffeehaus Berlin", "Kaffeehaus Berlin GmbH", "Europe/Berlin", "EUR", "DE", "coffee"),
    ("Sakura Skin Lab", "Sakura Cosmetics K.K.", "Asia/Tokyo", "JPY", "JP", "serum"),
    ("Maison Lumière", "Lumière SAS", "Europe/Paris", "EUR", "FR", "candles"),
    ("Praia Swimwear", "Praia Moda Ltda.", "America/Sao_Paulo", "BRL", "BR", "swimsuits"),
    ("Hanbit Audio", "Hanbit Electronics Co.", "Asia/Seoul", "KRW", "KR", "earbuds"),
    ("Oasis Home", "Oasis Home Trading LLC", "Asia/Dubai", "AED", "AE", "rugs"),
    ("Thames & Co", "Thames and Company Ltd", "Europe/London", "GBP", "GB", "jackets"),
)

CAMPAIGN_NAMES: tuple[str, ...] = (
    "Spring Sale", "Always-on Prospecting", "Black Friday", "Retargeting", "Launch Week",
    "Summer Drop", "Back to School", "Holiday Gifting", "Brand Awareness", "App Installs",
)
CAMPAIGN_OBJECTIVES: tuple[str, ...] = (
    "TRAFFIC", "CONVERSIONS", "REACH", "VIDEO_VIEWS", "APP_PROMOTION", "ENGAGEMENT",
)
ADGROUP_AUDIENCES: tuple[str, ...] = (
    "Broad 18-34", "Broad 25-44", "Interests: Fashion", "Interests: Food & Drink",
    "Lookalike 1%", "Lookalike 5%", "Website visitors 30d", "Video viewers 15s",
    "Women 18-24", "Men 25-34", "Students", "Parents",
)
AD_FORMATS: tuple[str, ...] = (
    "UGC video", "Creator review", "Unboxing", "Tutorial", "Behind the scenes",
    "Before/after", "Green screen", "Duet", "Product demo", "Testimonial",
)
AD_TEXTS: tuple[str, ...] = (
    "New season, new {product}. Tap to shop.",
    "Our best-selling {product} is back in stock!",
    "Free shipping on {product} this week only.",
    "You asked, we listened: {product} in new colours.",
    "30-day returns on all {product}. Try them today.",
    "Made to last: {product} you will actually love.",
)
CALLS_TO_ACTION: tuple[str, ...] = ("SHOP_NOW", "LEARN_MORE", "ORDER_NOW", "SIGN_UP", "GET_QUOTE")

IDENTITY_SUFFIXES: tuple[str, ...] = (".official", "_shop", ".hq", "_team", ".studio")

# Comment text by language and kind. Kinds: praise, price, shipping, size, complaint,
# neutral, spam. English lines may contain {product}.
_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "praise": (
            "Love these!", "Obsessed with my new {product}", "Best {product} I have ever bought",
            "This ad actually made me buy them lol", "Quality is insane for the price",
            "Got mine yesterday and they're perfect", "Need this in every colour",
            "Okay this is genius", "10/10 would buy again", "My sister has these, they're great",
        ),
        "price": (
            "How much?", "Price??", "How much are the {product}?",
            "Is there a discount code?", "Are they cheaper on the website?",
            "How much in CAD?", "Why so expensive tho", "Any student discount?",
        ),
        "shipping": (
            "Do you ship to Canada?", "How long does shipping take to the UK?",
            "Do you ship internationally?", "Is shipping free?",
            "Ordered 2 weeks ago still nothing, where is my order?",
            "Can I get it before Christmas?", "Ship to Australia pls",
        ),
        "size": (
            "Do they run small?", "What size should I get if I'm usually an 8?",
            "Is there a size chart?", "Do you have XL?", "Are they true to size?",
            "Do they come in wide fit?", "What size is she wearing?",
        ),
        "complaint": (
            "Mine broke after a week", "Customer service never answered my email",
            "Still waiting for my refund", "Colour looks nothing like the video",
            "Stop showing me this ad", "Worst purchase ever, don't buy",
            "Package arrived damaged and nobody replies", "Scam?? never received anything",
        ),
        "neutral": (
            "First", "Who else is watching this at 3am", "The song?", "what's the song name",
            "Link?", "Where can I buy this?", "Is this in stores?", "Following",
            "Does it come in black?", "Saw this in Target today",
        ),
        "spam": (
            "Free followers 👉 http://followers.example.invalid/free",
            "DM me for collab 💰 www.cheap-deals.example.invalid",
            "Earn $500/day from home!!! check my bio http://money.example.invalid",
            "Giveaway!! click here https://giveaway.example.invalid/win?id=1",
            "Cheap replicas at replica-shop.example.invalid 🔥🔥",
        ),
    },
    "es": {
        "praise": ("¡Me encantan!", "Los mejores que he comprado", "Qué bonitos 😍",
                   "Calidad increíble", "Ya los pedí, ¡gracias!"),
        "price": ("¿Cuánto cuestan?", "¿Precio?", "¿Hay descuento?", "¿Cuánto en pesos?"),
        "shipping": ("¿Hacen envíos a México?", "¿Cuánto tarda el envío a España?",
                     "¿Envío gratis?", "Mi pedido no llega desde hace 3 semanas"),
        "size": ("¿Tienen talla grande?", "¿Vienen en talla 38?", "¿Son de talla normal?"),
        "complaint": ("No me llegó nada", "Pésima atención al cliente",
                      "Se rompió a los dos días", "Nadie responde los mensajes"),
        "neutral": ("¿Cómo se llama la canción?", "Primero", "¿Dónde los venden?", "Info"),
        "spam": ("Gana dinero desde casa 👉 http://dinero.example.invalid",),
    },
    "de": {
        "praise": ("Richtig gut!", "Bester Kaffee ever", "Super Qualität, gerne wieder",
                   "Sieht mega aus 🔥", "Hab sie mir sofort bestellt"),
        "price": ("Was kostet das?", "Preis?", "Gibt es einen Rabattcode?",
                  "Warum so teuer?"),
        "shipping": ("Liefert ihr nach Österreich?", "Wie lange dauert der Versand?",
                     "Versand kostenlos?", "Meine Bestellung ist seit 10 Tagen unterwegs"),
        "size": ("Fallen die klein aus?", "Gibt es die auch in Größe 44?",
                 "Welche Größe trägt sie?"),
        "complaint": ("Kundenservice antwortet nicht", "Nach einer Woche kaputt",
                      "Ware beschädigt angekommen", "Ich warte immer noch auf mein Geld"),
        "neutral": ("Wie heißt das Lied?", "Gibt es das auch im Laden?", "Erste!"),
        "spam": ("Schnell reich werden: www.reich.example.invalid 💸",),
    },
    "fr": {
        "praise": ("Trop beau !", "J'adore 😍", "Qualité top, je recommande",
                   "Meilleur achat de l'année", "Commandé direct"),
        "price": ("C'est combien ?", "Prix svp", "Il y a un code promo ?"),
        "shipping": ("Vous livrez en Belgique ?", "Livraison en combien de temps ?",
                     "Toujours pas reçu ma commande"),
        "size": ("Ça taille petit ?", "Vous avez du 40 ?", "Quelle taille pour 1m70 ?"),
        "complaint": ("Service client injoignable", "Reçu abîmé",
                      "Rien à voir avec la vidéo", "Remboursement jamais reçu"),
        "neutral": ("C'est quoi la musique ?", "On peut l'acheter en magasin ?", "Premier"),
        "spam": ("Abonnés gratuits ici 👉 http://abonnes.example.invalid",),
    },
    "pt": {
        "praise": ("Amei demais!", "Perfeito 😍😍", "Qualidade excelente", "Já comprei o meu"),
        "price": ("Quanto custa?", "Qual o preço?", "Tem cupom de desconto?"),
        "shipping": ("Entrega no Brasil?", "Quanto tempo demora a entrega?",
                     "Frete grátis?", "Meu pedido não chegou até agora"),
        "size": ("Tem tamanho G?", "Veste pequeno?", "Qual tamanho ela está usando?"),
        "complaint": ("Ninguém responde no chat", "Veio com defeito",
                      "Quero meu dinheiro de volta"),
        "neutral": ("Qual o nome da música?", "Onde compra?", "Primeiro"),
        "spam": ("Ganhe seguidores grátis 👉 http://seguidores.example.invalid",),
    },
    "ja": {
        "praise": ("めっちゃ可愛い！", "最高です✨", "買ってよかった", "リピ確定です"),
        "price": ("いくらですか？", "値段知りたいです", "割引コードありますか？"),
        "shipping": ("日本に発送できますか？", "届くまで何日かかりますか？", "まだ届きません"),
        "size": ("サイズ感はどうですか？", "Lサイズありますか？"),
        "complaint": ("問い合わせに返信がない", "すぐ壊れました", "動画と色が違う"),
        "neutral": ("この曲なに？", "どこで買えますか？"),
        "spam": ("フォロワー無料で増える👉 http://follow.example.invalid",),
    },
    "ko": {
        "praise": ("너무 예뻐요!", "완전 최고 👍", "재구매 각", "품질 좋아요"),
        "price": ("얼마예요?", "가격 알려주세요", "할인 코드 있나요?"),
        "shipping": ("한국 배송 되나요?", "배송 얼마나 걸려요?", "아직 안 왔어요"),
        "size": ("사이즈 어때요?", "작게 나오나요?"),
        "complaint": ("고객센터 답이 없어요", "일주일 만에 고장났어요"),
        "neutral": ("노래 제목 뭐예요?", "어디서 사요?"),
        "spam": ("무료 팔로워 👉 http://follow-kr.example.invalid",),
    },
    "ar": {
        "praise": ("رائع جداً!", "أحببته ❤️", "جودة ممتازة", "أفضل منتج جربته"),
        "price": ("كم السعر؟", "بكم هذا؟", "هل يوجد خصم؟"),
        "shipping": ("هل يوجد توصيل إلى السعودية؟", "كم يستغرق الشحن؟", "لم يصلني الطلب"),
        "size": ("هل المقاسات كبيرة؟", "هل يوجد مقاس XL؟"),
        "complaint": ("خدمة العملاء لا ترد", "وصلني المنتج تالف"),
        "neutral": ("ما اسم الأغنية؟", "من أين أشتري؟"),
        "spam": ("متابعين مجاناً 👈 http://followers-ar.example.invalid",),
    },
    "it": {
        "praise": ("Bellissimi!", "Li adoro 😍", "Qualità ottima"),
        "price": ("Quanto costano?", "Prezzo?"),
        "shipping": ("Spedite in Italia?", "Quanto ci mette la spedizione?"),
        "size": ("Vestono piccoli?",),
        "complaint": ("Ordine mai arrivato", "Nessuno risponde alle email"),
        "neutral": ("Come si chiama la canzone?",),
        "spam": ("Follower gratis 👉 http://follower-it.example.invalid",),
    },
    "id": {
        "praise": ("Keren banget!", "Suka bangett 😍", "Kualitasnya bagus"),
        "price": ("Harganya berapa kak?", "Ada diskon ga?"),
        "shipping": ("Bisa kirim ke Jakarta?", "Ongkirnya berapa?"),
        "size": ("Ukurannya pas ga kak?",),
        "complaint": ("Pesanan belum sampai", "CS ga bales"),
        "neutral": ("Judul lagunya apa?",),
        "spam": ("Follower gratis klik 👉 http://follower-id.example.invalid",),
    },
}

COMMENTS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {lang: MappingProxyType(kinds) for lang, kinds in _COMMENTS.items()}
)
del _COMMENTS

# Share of comments per language (percent).
LANGUAGE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("en", 40), ("es", 12), ("de", 9), ("fr", 8), ("pt", 8), ("ja", 6), ("ko", 5), ("ar", 5),
    ("it", 4), ("id", 3),
)
# Share of comments per kind (percent).
KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("praise", 30), ("price", 12), ("shipping", 10), ("size", 8), ("complaint", 12),
    ("neutral", 22), ("spam", 6),
)

# Replies written by other viewers under a comment.
USER_REPLIES: tuple[str, ...] = (
    "Same!", "fr", "Agreed 💯", "Check their website", "It's on their site",
    "They answered me in DMs", "Mine came in 5 days", "lol", "Exactly what I thought",
    "¡Yo también!", "Ich auch", "Moi aussi", "Eu também", "私も！", "저도요", "وأنا أيضاً",
)
# Replies written by the brand under a comment.
BRAND_REPLIES: tuple[str, ...] = (
    "Thank you so much! 💛", "Hi! Please send us a DM with your order number and we'll help.",
    "Yes, we ship worldwide 🌍", "Use code HELLO10 for 10% off!",
    "They run true to size. Our size chart is on the product page.",
    "So sorry to hear that. Our team will reach out to you today.",
    "Glad you love them!", "Free shipping on orders over 50 🚚",
)

EMOJI: tuple[str, ...] = (
    "😍", "🔥", "😂", "👍", "❤️", "🙏", "😡", "🤔", "💯", "👀", "🥰", "😭", "✨",
    "👏🏽", "🇺🇸", "👨‍👩‍👧",
)

# Comment texts that must reach the app verbatim and stay harmless there: HTML, markdown,
# spreadsheet formulas, control characters, shell-like strings.
HOSTILE_COMMENTS: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    "![t](http://example.invalid/p.png)",
    "[click](javascript:alert(1))",
    '=HYPERLINK("http://example.invalid","x")',
    "+1 SUM(A1)",
    "-2+3",
    "@cmd",
    "\tleading tab",
    "\rleading carriage return",
    "**bold** _it_ # heading",
    "'; DROP TABLE comments; --",
    "<script>alert('x')</script> nice ad",
    "Line one\nLine two\n\nLine four",
)

NAME_PARTS: tuple[str, ...] = (
    "maria", "alex", "sam", "lena", "yuki", "minjun", "omar", "lucas", "chloe", "ana",
    "jonas", "sofia", "kenji", "leila", "mateo", "emma", "noah", "mia", "luca", "zoe",
    "sneaker", "coffee", "beauty", "daily", "vibes", "real", "its", "the", "not", "just",
)
NAME_SUFFIXES: tuple[str, ...] = ("", "_", ".", "__", "x", "official", "tv", "fan", "lover")

# TikTok business accounts (the Accounts API). English lines may contain {product}.
VIDEO_CAPTIONS: tuple[str, ...] = (
    "POV: your {product} finally arrived 📦 #unboxing",
    "3 ways to style our {product} ✨ #ootd #fyp",
    "Behind the scenes at the studio today 🎬",
    "You asked for it: the new {product} colours are here 🌈",
    "Packing orders with us 📦 #smallbusiness",
    "Which one would you pick? 1, 2 or 3? 👇",
    "Day in the life of our team ☕️",
    "Restock alert 🚨 {product} are back",
    "How it's made: our {product} from start to finish",
    "Replying to your comments 💬 #qna",
    "Our founder answers your questions 🎤",
    "Customer review time ⭐️⭐️⭐️⭐️⭐️",
)
ACCOUNT_BIOS: tuple[str, ...] = (
    "Official account 💛 Shop the {product} below 👇",
    "{product} made to last. Questions? DM us.",
    "Free shipping over 50 🚚 | Tag us to get featured",
    "Small team, big dreams ✨ New drops every Friday",
)
# Top-level comments the account writes under its own videos.
ACCOUNT_COMMENTS: tuple[str, ...] = (
    "Which colour should we drop next? 👇",
    "Giveaway! Comment your favourite {product} to win 🎁",
    "Thank you for 10k followers 💛",
    "Link to the {product} is in our bio 🔗",
    "Drop your questions below, we read every comment 💬",
)
