"""Seeded synthetic "demo world": customers, campaigns, agents, touchpoints and tickets.

``generate(out_dir, tickets=25_000, seed=42)`` writes a deterministic data set (same seed ->
byte-identical files) that tells a few causal stories the dashboard can show:

* "Spring Sale 40% off" (email + paid social, launched 2026-03-16 09:00) -> coupon_promo, billing
  and refund tickets from the customers it touched, in the days after their touch;
* "App 5.0 launch" (email + app-store ads, 2026-05-05 10:00) -> app_crash tickets from touched
  customers;
* an outage 2026-04-21 06:00 .. 2026-04-23 18:00 -> a spike of furious app_crash and
  account_access tickets, and slow answers;
* vip and enterprise customers write more security_fraud and account_access tickets, are angrier
  and complain about waiting;
* fewer tickets at weekends with a Monday peak; slower first responses at weekends and at night.

All randomness is drawn with numpy up front; tickets and touchpoints are then rendered and written
in chunks, so a million tickets take well under 2 GiB. The chunk size does not change the data.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from triage_core.errors import ConfigError
from triage_core.schema import (
    AGENTS,
    CAMPAIGNS,
    CUSTOMERS,
    TICKET_STATUSES,
    TICKETS,
    TOUCHPOINTS,
    Table,
)

__all__ = [
    "APP_RELEASE_CAMPAIGN_IDS",
    "CATEGORIES",
    "CATEGORY_TEAM",
    "DEMO_SEED",
    "DEMO_TICKETS",
    "DISCOUNT_CAMPAIGN_IDS",
    "INCIDENT_FROM",
    "INCIDENT_UNTIL",
    "TICKETS_FROM",
    "TICKETS_UNTIL",
    "generate",
]

DEMO_TICKETS = 25_000
DEMO_SEED = 42

CATEGORIES = (
    "billing", "refund", "coupon_promo", "account_access", "app_crash",
    "shipping_delivery", "cancellation", "product_question", "feature_request", "security_fraud",
)
SEGMENTS = ("consumer", "smb", "enterprise", "vip")
PLANS = ("free", "basic", "pro", "business", "enterprise")
LANGUAGES = ("en", "de", "es", "fr")
TICKET_CHANNELS = ("email", "chat", "phone", "web", "social")
_EMAIL, _CHAT, _PHONE, _WEB, _SOCIAL = range(len(TICKET_CHANNELS))
_CONSUMER, _SMB, _ENTERPRISE, _VIP = range(len(SEGMENTS))
TOUCH_KINDS = ("impression", "click", "open", "visit", "signup", "purchase")
TEAMS = ("billing_team", "tech_support", "logistics", "customer_success", "trust_safety",
         "vip_desk")
CATEGORY_TEAM = {
    "billing": "billing_team", "refund": "billing_team", "coupon_promo": "billing_team",
    "account_access": "tech_support", "app_crash": "tech_support",
    "shipping_delivery": "logistics", "cancellation": "customer_success",
    "product_question": "customer_success", "feature_request": "customer_success",
    "security_fraud": "trust_safety",
}

# Fixed calendar (not relative to today). TICKETS_UNTIL is exclusive and is also the "now" of the
# snapshot: statuses, response and resolution times are as seen at that moment.
TICKETS_FROM = datetime(2026, 1, 1)
TICKETS_UNTIL = datetime(2026, 7, 1)
INCIDENT_FROM = datetime(2026, 4, 21, 6)
INCIDENT_UNTIL = datetime(2026, 4, 23, 18)
DISCOUNT_CAMPAIGN_IDS = ("CMP08", "CMP09")
APP_RELEASE_CAMPAIGN_IDS = ("CMP14", "CMP15")
DISCOUNT_CODE = "SPRING40"

# Shares of all tickets that come from the causal stories (the rest is the everyday baseline).
_DISCOUNT_SHARE = 0.05
_APP_SHARE = 0.04
_INCIDENT_SHARE = 0.035
_LABEL_SHARE = 0.85  # solved/closed tickets that carry a category label
_LABEL_NOISE = 0.025  # labels an agent got wrong (a related category)
_CSAT_SHARE = 0.35
_P_OVERLOOKED = 0.05  # tickets that sit in the queue much longer before a first answer
_P_STALLED = 0.12  # tickets that wait on the customer or another team before they are solved
_TOUCH_BLOCK = 50_000  # customers per touchpoint block (fixed: the data must not depend on it)
_ZSTD_LEVEL = 3

# =============================================================================================
# World parameters (data)
# =============================================================================================

_SEGMENT_SHARE = (0.72, 0.18, 0.06, 0.04)
_SEGMENT_PLAN = (  # rows: segment; columns: PLANS
    (0.45, 0.35, 0.20, 0.00, 0.00),
    (0.00, 0.25, 0.50, 0.25, 0.00),
    (0.00, 0.00, 0.10, 0.35, 0.55),
    (0.00, 0.00, 0.45, 0.45, 0.10),
)
_SEGMENT_LTV = ((4.7, 1.1), (6.3, 1.0), (8.6, 0.9))  # lognormal (mu, sigma); vip is Pareto
_SEGMENT_ACTIVITY = (1.0, 1.3, 2.0, 2.2)  # relative tickets per customer
_SEGMENT_TOUCHED = (0.62, 0.70, 0.75, 0.70)  # share of customers with a campaign journey
_LANGUAGE_SHARE = (0.88, 0.05, 0.04, 0.03)
_SEGMENT_CATEGORY = (  # rows: segment; columns: CATEGORIES
    (0.12, 0.12, 0.08, 0.11, 0.10, 0.18, 0.08, 0.11, 0.05, 0.05),
    (0.15, 0.09, 0.05, 0.12, 0.11, 0.12, 0.08, 0.12, 0.09, 0.07),
    (0.16, 0.06, 0.02, 0.17, 0.12, 0.06, 0.07, 0.10, 0.11, 0.13),
    (0.14, 0.10, 0.04, 0.17, 0.09, 0.08, 0.06, 0.08, 0.06, 0.18),
)
_SEGMENT_CHANNEL = (  # rows: segment; columns: TICKET_CHANNELS
    (0.40, 0.25, 0.05, 0.20, 0.10),
    (0.50, 0.20, 0.08, 0.20, 0.02),
    (0.60, 0.10, 0.15, 0.15, 0.00),
    (0.50, 0.15, 0.25, 0.10, 0.00),
)
# Mood shift (negative = angrier) added to a standard normal; cut into 5 tones.
_SEGMENT_MOOD = (0.0, -0.1, -0.3, -0.45)
_CATEGORY_MOOD = (-0.15, -0.2, -0.05, -0.2, -0.3, -0.2, -0.1, 0.4, 0.5, -0.4)
_TONE_CUTS = (-1.555, -0.643, 0.706, 1.476)  # furious, angry, neutral, positive, delighted
_WEEKDAY_VOLUME = (1.3, 1.1, 1.05, 1.0, 0.9, 0.5, 0.45)  # Monday .. Sunday
_HOUR_VOLUME = (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.25, 1.2,
                1.05, 1.1, 1.15, 1.1, 1.0, 0.9, 0.75, 0.6, 0.5, 0.4, 0.3, 0.2)
# Handling: first response (minutes, lognormal median) and resolution (hours after it).
_FIRST_RESPONSE_MIN = 50.0
_SEGMENT_SPEED = (1.0, 0.9, 0.6, 0.4)
_CHANNEL_SPEED = (1.0, 0.05, 0.01, 1.0, 0.7)
_CATEGORY_RESOLVE_H = (15, 45, 9, 8, 30, 60, 12, 6, 72, 36)
_TEAM_SIZES = (8, 9, 6, 8, 4, 5)
_TEAM_SKILLS = (
    ("billing", "refund", "coupon_promo"),
    ("app_crash", "account_access"),
    ("shipping_delivery", "refund"),
    ("product_question", "feature_request", "cancellation"),
    ("security_fraud", "account_access"),
    ("vip", "billing", "refund", "account_access", "security_fraud", "app_crash"),
)
_EXTRA_SKILLS = ("cancellation", "product_question", "refund", "billing", "feature_request")
# What the stories' tickets are about.
_DISCOUNT_MIX = {"coupon_promo": 0.6, "billing": 0.25, "refund": 0.15}
_APP_MIX = {"app_crash": 0.8, "account_access": 0.2}
_INCIDENT_MIX = {"app_crash": 0.55, "account_access": 0.45}
_LABEL_CONFUSION = {  # category -> a related category an agent might pick instead
    "billing": "refund", "refund": "billing", "coupon_promo": "billing",
    "account_access": "security_fraud", "app_crash": "account_access",
    "shipping_delivery": "refund", "cancellation": "refund",
    "product_question": "feature_request", "feature_request": "product_question",
    "security_fraud": "account_access",
}

# Campaigns: id, name, channel, utm_source, utm_medium, utm_campaign, start, end (None = still
# running), spend, return on ad spend, reach (relative share of touches).
_CAMPAIGNS = (
    ("CMP01", "New Year Newsletter", "email", "newsletter", "email", "new_year_2026",
     "2026-01-02 09:00", "2026-01-09 23:59", 1800, 6.0, 1.0),
    ("CMP02", "Winter Search - Brand", "paid_search", "google", "cpc", "brand_winter",
     "2025-12-01 00:00", "2026-02-28 23:59", 42000, 3.1, 1.2),
    ("CMP03", "Winter Search - Generic", "paid_search", "google", "cpc", "generic_winter",
     "2026-01-05 00:00", "2026-03-15 23:59", 58000, 1.6, 1.0),
    ("CMP04", "January Retargeting", "display", "gdn", "display", "retargeting_jan",
     "2026-01-10 00:00", "2026-02-10 23:59", 15000, 2.2, 0.9),
    ("CMP05", "Valentine's Gift Guide", "paid_social", "instagram", "paid_social",
     "valentines_2026", "2026-02-01 08:00", "2026-02-14 23:59", 22000, 2.4, 0.8),
    ("CMP06", "Affiliate - TechReview Blog", "affiliate", "techreview", "affiliate",
     "techreview_2026", "2026-01-15 00:00", None, 9000, 3.5, 0.4),
    ("CMP07", "Webinar: Getting Started", "webinar", "zoom", "webinar", "getting_started_feb",
     "2026-02-18 16:00", "2026-02-25 23:59", 2500, 4.0, 0.15),
    ("CMP08", "Spring Sale 40% off", "email", "newsletter", "email", "spring_sale_40",
     "2026-03-16 09:00", "2026-03-29 23:59", 3500, 14.0, 1.6),
    ("CMP09", "Spring Sale 40% off - Social", "paid_social", "facebook", "paid_social",
     "spring_sale_40", "2026-03-16 09:00", "2026-03-29 23:59", 26000, 3.8, 1.0),
    ("CMP10", "Refer a Friend", "referral", "referral", "referral", "refer_a_friend",
     "2026-01-01 00:00", None, 12000, 2.9, 0.35),
    ("CMP11", "Spring Search - Generic", "paid_search", "google", "cpc", "generic_spring",
     "2026-03-01 00:00", "2026-05-31 23:59", 61000, 1.5, 1.0),
    ("CMP12", "Display Prospecting Q2", "display", "dv360", "display", "prospecting_q2",
     "2026-04-01 00:00", "2026-06-30 23:59", 24000, 0.9, 1.1),
    ("CMP13", "Webinar: Security Best Practices", "webinar", "zoom", "webinar",
     "security_webinar", "2026-04-08 17:00", "2026-04-15 23:59", 3000, 2.0, 0.12),
    ("CMP14", "App 5.0 launch", "email", "newsletter", "email", "app_5_launch",
     "2026-05-05 10:00", "2026-05-31 23:59", 2200, 5.0, 1.4),
    ("CMP15", "App 5.0 launch - App Store Ads", "paid_search", "apple_search_ads", "cpc",
     "app_5_launch", "2026-05-05 10:00", "2026-06-15 23:59", 18000, 2.1, 0.7),
    ("CMP16", "Mother's Day Gifts", "paid_social", "instagram", "paid_social",
     "mothers_day_2026", "2026-04-25 08:00", "2026-05-10 23:59", 21000, 2.6, 0.8),
    ("CMP17", "Affiliate - Coupon Sites", "affiliate", "couponfollow", "affiliate",
     "coupon_sites", "2026-02-01 00:00", "2026-06-30 23:59", 7000, 4.2, 0.5),
    ("CMP18", "Bing Search - Brand", "paid_search", "bing", "cpc", "brand_bing",
     "2026-01-01 00:00", "2026-06-30 23:59", 8000, 3.9, 0.5),
    ("CMP19", "Customer Newsletter - April", "email", "newsletter", "email", "newsletter_apr",
     "2026-04-02 09:00", "2026-04-09 23:59", 1500, 5.5, 1.0),
    ("CMP20", "Customer Newsletter - June", "email", "newsletter", "email", "newsletter_jun",
     "2026-06-03 09:00", "2026-06-10 23:59", 1500, 5.0, 1.0),
    ("CMP21", "Summer Preview", "paid_social", "tiktok", "paid_social", "summer_preview",
     "2026-06-08 08:00", None, 19000, 1.8, 0.7),
    ("CMP22", "Enterprise ABM - LinkedIn", "paid_social", "linkedin", "paid_social",
     "abm_enterprise", "2026-02-15 00:00", "2026-05-15 23:59", 35000, 2.8, 0.3),
    ("CMP23", "Partner Webinar: Integrations", "webinar", "zoom", "webinar",
     "integrations_webinar", "2026-05-20 16:00", "2026-05-27 23:59", 2800, 3.0, 0.12),
    ("CMP24", "Win-back Email", "email", "newsletter", "email", "winback_feb",
     "2026-02-10 09:00", "2026-02-24 23:59", 1200, 7.5, 0.8),
    ("CMP25", "YouTube Pre-roll", "display", "youtube", "video", "yt_preroll_spring",
     "2026-03-20 00:00", "2026-04-30 23:59", 30000, 0.7, 1.0),
)
# Campaigns aimed at business customers: reach multiplier per segment.
_CAMPAIGN_SEGMENT_BOOST = {
    "CMP22": (0.1, 6.0, 8.0, 6.0),
    "CMP07": (0.5, 2.5, 3.0, 2.0),
    "CMP13": (0.5, 2.5, 3.0, 2.0),
    "CMP23": (0.5, 2.5, 3.0, 2.0),
}
_CAMPAIGN_CHANNELS = ("email", "paid_search", "paid_social", "display", "affiliate", "webinar",
                      "referral")
_KIND_BY_CHANNEL = (  # rows: _CAMPAIGN_CHANNELS; columns: TOUCH_KINDS
    (0.00, 0.30, 0.60, 0.05, 0.00, 0.05),
    (0.45, 0.35, 0.00, 0.15, 0.00, 0.05),
    (0.55, 0.30, 0.00, 0.10, 0.03, 0.02),
    (0.80, 0.15, 0.00, 0.05, 0.00, 0.00),
    (0.00, 0.50, 0.00, 0.30, 0.00, 0.20),
    (0.00, 0.00, 0.00, 0.40, 0.60, 0.00),
    (0.00, 0.00, 0.00, 0.40, 0.35, 0.25),
)
_EMAIL_DECAY_DAYS = 1.2  # email touches: truncated exponential after the send

# =============================================================================================
# Ticket text (data). Slots in braces are filled per ticket; see _SLOTS.
# =============================================================================================

_SLOTS = ("order", "amount", "product", "code", "device", "version", "plan", "days", "carrier",
          "date", "name", "last4", "last", "company", "email", "phone", "card")

_SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "billing": (
            "Double charge on my card", "Wrong amount charged", "Question about my invoice",
            "Invoice {order} is incorrect", "Charged after downgrade", "Billing issue",
            "Payment failed but money taken", "Unexpected charge of {amount}",
            "Need a VAT invoice", "Why was I billed {amount}?", "Price went up?",
        ),
        "refund": (
            "Refund request for order {order}", "Where is my refund?", "Refund not received",
            "Return and refund - {product}", "Money back please",
            "Refund still pending after {days} days", "Requesting a refund",
            "Refund for damaged {product}",
        ),
        "coupon_promo": (
            "Discount code not working", "Promo code {code} invalid",
            "{code} code doesn't apply", "Sale price not applied", "Coupon expired?",
            "Missing discount on my order", "Question about the promotion", "Voucher problem",
        ),
        "account_access": (
            "Can't log in", "Password reset email never arrives", "Locked out of my account",
            "Login problem", "2FA code not working", "Account locked",
            "Can't sign in", "Help - no access to account",
        ),
        "app_crash": (
            "App crashes on startup", "App keeps crashing", "Crash after update to {version}",
            "App freezes on {device}", "Black screen when opening app",
            "Bug: app closes when I open my cart", "App not working since update", "App crash",
        ),
        "shipping_delivery": (
            "Where is my order?", "Order {order} not delivered",
            "Package marked delivered but not received", "Delivery delayed",
            "Tracking not updating", "Wrong address on shipment", "Parcel missing",
            "Shipping status",
        ),
        "cancellation": (
            "Cancel my subscription", "Please cancel order {order}", "How do I cancel?",
            "Cancellation request", "Close my account", "Stop auto-renewal",
            "Cancel {plan} plan", "I want to cancel",
        ),
        "product_question": (
            "Question about {product}", "Is the {product} compatible with {device}?",
            "Product info", "Size question", "How does the {product} work?",
            "Difference between plans", "Warranty question", "Pre-sales question",
        ),
        "feature_request": (
            "Feature request: dark mode", "Suggestion", "Idea for the app",
            "Please add export to CSV", "Would love a widget", "Feature suggestion",
            "Request: multiple addresses", "Wish list",
        ),
        "security_fraud": (
            "Unauthorized charge", "Someone accessed my account", "Suspicious login",
            "Fraudulent order {order}", "Account hacked", "Phishing email from you?",
            "I didn't place this order", "Security concern",
        ),
    },
    "de": {
        "billing": ("Doppelte Abbuchung", "Falscher Betrag auf der Rechnung",
                    "Frage zur Rechnung {order}"),
        "refund": ("Rückerstattung für Bestellung {order}", "Wo bleibt meine Erstattung?",
                   "Geld zurück"),
        "coupon_promo": ("Gutscheincode funktioniert nicht", "Rabattcode {code} ungültig",
                         "Rabatt nicht abgezogen"),
        "account_access": ("Kann mich nicht anmelden", "Passwort zurücksetzen geht nicht",
                           "Konto gesperrt"),
        "app_crash": ("App stürzt ab", "Absturz nach Update auf {version}",
                      "App startet nicht mehr"),
        "shipping_delivery": ("Wo ist meine Bestellung?", "Paket nicht angekommen",
                              "Lieferung verspätet"),
        "cancellation": ("Kündigung meines Abos", "Bestellung {order} stornieren",
                         "Vertrag kündigen"),
        "product_question": ("Frage zum {product}", "Ist das {product} kompatibel?",
                             "Produktfrage"),
        "feature_request": ("Verbesserungsvorschlag", "Wunsch: Dunkelmodus",
                            "Idee für die App"),
        "security_fraud": ("Unbekannte Abbuchung", "Konto gehackt?",
                           "Bestellung nicht von mir"),
    },
    "es": {
        "billing": ("Cobro duplicado", "Importe incorrecto en la factura",
                    "Pregunta sobre la factura {order}"),
        "refund": ("Reembolso del pedido {order}", "¿Dónde está mi reembolso?",
                   "Devolución de dinero"),
        "coupon_promo": ("El código de descuento no funciona", "Cupón {code} no válido",
                         "No se aplicó el descuento"),
        "account_access": ("No puedo iniciar sesión", "No llega el correo de contraseña",
                           "Cuenta bloqueada"),
        "app_crash": ("La app se cierra sola", "Fallo tras actualizar a {version}",
                      "La aplicación no abre"),
        "shipping_delivery": ("¿Dónde está mi pedido?", "Paquete no recibido",
                              "Envío retrasado"),
        "cancellation": ("Cancelar mi suscripción", "Cancelar el pedido {order}",
                         "Darme de baja"),
        "product_question": ("Pregunta sobre el {product}", "¿Es compatible el {product}?",
                             "Consulta de producto"),
        "feature_request": ("Sugerencia", "Petición: modo oscuro", "Idea para la app"),
        "security_fraud": ("Cargo no autorizado", "¿Me han hackeado la cuenta?",
                           "Pedido que no hice"),
    },
    "fr": {
        "billing": ("Double prélèvement", "Montant incorrect sur la facture",
                    "Question sur la facture {order}"),
        "refund": ("Remboursement de la commande {order}", "Où est mon remboursement ?",
                   "Demande de remboursement"),
        "coupon_promo": ("Le code promo ne fonctionne pas", "Code {code} invalide",
                         "Réduction non appliquée"),
        "account_access": ("Impossible de me connecter",
                           "L'e-mail de réinitialisation n'arrive pas", "Compte bloqué"),
        "app_crash": ("L'application plante", "Plantage après la mise à jour {version}",
                      "L'appli ne s'ouvre plus"),
        "shipping_delivery": ("Où est ma commande ?", "Colis non reçu", "Livraison en retard"),
        "cancellation": ("Résiliation de mon abonnement", "Annuler la commande {order}",
                         "Résilier"),
        "product_question": ("Question sur le {product}", "Le {product} est-il compatible ?",
                             "Question produit"),
        "feature_request": ("Suggestion", "Demande : mode sombre", "Idée pour l'application"),
        "security_fraud": ("Prélèvement non autorisé", "Compte piraté ?",
                           "Commande que je n'ai pas passée"),
    },
}
# Subjects that say nothing about the issue, and the ones chat / phone / social tools generate.
_GENERIC_SUBJECTS = {
    "en": ("Help", "Problem with my order", "Question", "URGENT", "Support request",
           "Order {order}", "Please help", "Issue", "(no subject)", "Following up", "Hello"),
    "de": ("Hilfe", "Problem mit meiner Bestellung", "Frage", "Dringend", "Anfrage"),
    "es": ("Ayuda", "Problema con mi pedido", "Consulta", "Urgente", "Solicitud"),
    "fr": ("Aide", "Problème avec ma commande", "Question", "Urgent", "Demande"),
}
_CHAT_SUBJECTS = {
    "en": ("Chat with {name}", "Conversation with {name}", "Live chat"),
    "de": ("Chat mit {name}",), "es": ("Chat con {name}",), "fr": ("Discussion avec {name}",),
}
_PHONE_SUBJECTS = {
    "en": ("Call from {name}", "Phone call", "Inbound call - {name}"),
    "de": ("Anruf von {name}",), "es": ("Llamada de {name}",), "fr": ("Appel de {name}",),
}
_SOCIAL_SUBJECTS = {
    "en": ("Facebook message from {name}", "Twitter mention", "Instagram DM from {name}"),
    "de": ("Facebook-Nachricht von {name}",), "es": ("Mensaje de Facebook de {name}",),
    "fr": ("Message Facebook de {name}",),
}

_ISSUES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "billing": (
            "I was charged {amount} twice for order {order}.",
            "My card ending in {last4} was billed {amount} but my plan is only {plan}.",
            "The invoice from {date} shows {amount}, which doesn't match what I agreed to.",
            "I downgraded to {plan} last month but I'm still being billed the old price.",
            "There's a charge of {amount} on my statement from you that I don't understand.",
            "Your system says my payment failed, yet the bank shows {amount} taken from my "
            "account.",
            "Can you send me a proper invoice with our VAT number for order {order}?",
            "I got billed for {days} extra days after my renewal date.",
            "Why did my monthly price go up to {amount}? Nobody told me about a price change.",
            "The auto-renewal charged my card ending {last4} even though I turned it off.",
            "I need to update the billing address on my invoices, they still show the old one.",
            "Payment for order {order} was declined three times, but my card works everywhere "
            "else.",
            "My {plan} subscription was charged in the wrong currency.",
            "The invoice total is {amount} but the order confirmation said less.",
        ),
        "refund": (
            "I returned the {product} on {date} and still haven't received my refund.",
            "I'd like a refund for order {order}, the {product} is not what I expected.",
            "You promised a refund of {amount} {days} days ago and nothing has arrived.",
            "The {product} arrived broken, I want my money back, not a replacement.",
            "Your return page says refunds take 5 days, it's been {days}.",
            "I was refunded only {amount} instead of the full price.",
            "Can I get the refund on a different card? The one ending {last4} is closed.",
            "I changed my mind about the {product}, can I return it for a full refund?",
            "The refund went to store credit but I asked for it on my card.",
            "Your agent confirmed the refund on {date} but my bank shows nothing.",
            "How long does a refund to PayPal usually take? Order {order}.",
            "Please process the return for order {order}, I sent the {product} back last week.",
        ),
        "coupon_promo": (
            "The promo code {code} says it's invalid at checkout.",
            "I used code {code} but the discount wasn't applied to order {order}.",
            "I got your email about the sale and the code {code} doesn't work.",
            "The coupon {code} worked for my friend but not for me.",
            "Does the {code} discount stack with my loyalty points?",
            "The sale ended while I was checking out, can you still honour {code}?",
            "I forgot to enter {code} on order {order}, can you apply it retroactively?",
            "The website says the code expired but the ad said it's valid until the end of the "
            "month.",
            "My referral discount never showed up after my friend signed up.",
            "The promo price for the {product} disappeared when I logged in.",
            "Is the student discount still available? The code {code} is rejected.",
            "The voucher {code} only takes off a few cents instead of the advertised discount.",
        ),
        "account_access": (
            "I can't log into my account, it keeps saying my password is wrong.",
            "The password reset email never arrives, I've checked spam.",
            "My account got locked after too many attempts and I can't unlock it.",
            "The two-factor code from the SMS is always rejected.",
            "I changed my phone and now I can't get the 2FA codes anymore.",
            "When I try to sign in with Google it just loops back to the login page.",
            "It says no account exists for my email, but I've been a customer for years.",
            "I'm stuck on the verification screen on my {device}.",
            "I need to change the email on my account but I can't log in to do it.",
            "Our admin left the company and we can't access the {plan} account anymore.",
            "The reset link says it has expired every time I click it.",
            "I keep getting logged out every few minutes and have to sign in again.",
        ),
        "app_crash": (
            "The app crashes every time I open it on my {device}.",
            "Since the update to version {version} the app closes right after the splash screen.",
            "The app freezes when I try to check out and then crashes.",
            "I get a black screen and then the app quits on my {device}.",
            "Version {version} keeps crashing when I open my order history.",
            "Every time I tap on a notification the app dies.",
            "The app is stuck on the loading spinner and then closes.",
            "Uploading a photo makes the app crash on my {device}.",
            "The app crashes when I rotate the screen.",
            "Scanning a barcode crashes the app instantly.",
            "After updating to {version} the app drains my battery and then crashes.",
            "The app force closes whenever I open the cart on {device}.",
        ),
        "shipping_delivery": (
            "My order {order} was supposed to arrive {days} days ago and it's still not here.",
            "Tracking says delivered but there's no package at my door.",
            "The {carrier} tracking hasn't updated since {date}.",
            "I received the wrong item, I ordered a {product}.",
            "The box arrived crushed and the {product} inside is scratched.",
            "Can I change the delivery address for order {order}? It hasn't shipped yet.",
            "{carrier} says the parcel is being returned to sender, why?",
            "Only half of my order arrived, the {product} is missing.",
            "Your site promised 2-day shipping, it's been {days} days.",
            "The courier left my package with a neighbour I don't know.",
            "When will order {order} ship? It still says processing.",
            "Do you deliver to PO boxes? My order is stuck at the depot.",
        ),
        "cancellation": (
            "Please cancel my {plan} subscription effective immediately.",
            "I want to cancel order {order} before it ships.",
            "How do I cancel? I can't find the option anywhere in the settings.",
            "Please close my account and delete my data.",
            "I'd like to stop the auto-renewal, I won't be needing the service anymore.",
            "I tried to cancel online but the button just gives an error.",
            "We're moving to another provider, please cancel our {plan} plan at the end of the "
            "term.",
            "Cancel my membership please, the price increase is too much for me.",
            "I cancelled last month but I still get emails saying my plan is active.",
            "Can I pause my subscription instead of cancelling?",
            "I signed up by mistake during the free trial, please cancel it.",
        ),
        "product_question": (
            "Is the {product} compatible with my {device}?",
            "What's the difference between the {plan} plan and the one above it?",
            "Does the {product} come with a warranty, and for how long?",
            "How do I set up the {product}? The manual is not very clear.",
            "Is the {product} available in other colours?",
            "Can I use the {product} outdoors in the rain?",
            "What are the dimensions of the {product}?",
            "Does the {plan} plan include API access?",
            "How many users can we add on the {plan} plan?",
            "Where can I find the user manual for the {product}?",
            "Will the {product} be back in stock soon?",
            "Can you recommend a replacement battery for the {product}?",
        ),
        "feature_request": (
            "It would be great if the app had a dark mode.",
            "Could you add an option to export my order history to CSV?",
            "Please let us save more than one delivery address.",
            "I'd love to see a home screen widget for tracking orders.",
            "Any plans to support Apple Pay or Google Pay?",
            "It would help a lot if we could assign roles to users on the {plan} plan.",
            "Suggestion: let us schedule deliveries for a specific day.",
            "Please add an integration with Slack for notifications.",
            "Could you offer the {product} as a bundle with accessories?",
            "Would be nice to filter orders by date in the app.",
            "It'd be awesome to have a family account with shared payment.",
            "Please add more languages to the app, German at least.",
        ),
        "security_fraud": (
            "Someone logged into my account from another country and changed my email.",
            "There's an order {order} on my account that I did not place.",
            "I got a login alert from a device I don't own.",
            "My card ending {last4} was used for a purchase of {amount} I didn't make.",
            "I received an email asking for my password that looks like it came from you, is it "
            "phishing?",
            "My account was hacked and the shipping address was changed.",
            "Someone is using my saved card on your site, please block it.",
            "I think my account has been compromised, my password stopped working.",
            "Got an SMS with a verification code I never requested.",
            "Please freeze my account, I see purchases I don't recognise.",
            "An unknown user was added as admin to our {plan} account.",
            "My loyalty points disappeared and someone redeemed them.",
        ),
    },
    "de": {
        "billing": (
            "Mir wurden {amount} doppelt für die Bestellung {order} abgebucht.",
            "Die Rechnung vom {date} stimmt nicht, der Betrag von {amount} ist zu hoch.",
            "Ich habe auf {plan} gewechselt, zahle aber immer noch den alten Preis.",
            "Die Zahlung ist angeblich fehlgeschlagen, aber das Geld wurde abgebucht.",
        ),
        "refund": (
            "Ich habe das {product} am {date} zurückgeschickt und noch keine Erstattung "
            "erhalten.",
            "Bitte erstatten Sie mir {amount} für die Bestellung {order}.",
            "Das {product} kam kaputt an, ich möchte mein Geld zurück.",
            "Die Erstattung wurde vor {days} Tagen bestätigt, ist aber nie angekommen.",
        ),
        "coupon_promo": (
            "Der Gutscheincode {code} wird an der Kasse als ungültig angezeigt.",
            "Ich habe den Code {code} eingegeben, aber der Rabatt wurde nicht abgezogen.",
            "Laut Werbung gilt die Aktion noch, aber im Warenkorb steht der volle Preis.",
            "Kann der Code {code} nachträglich für Bestellung {order} verwendet werden?",
        ),
        "account_access": (
            "Ich kann mich nicht mehr in mein Konto einloggen, das Passwort wird abgelehnt.",
            "Die E-Mail zum Zurücksetzen des Passworts kommt nie an.",
            "Mein Konto wurde nach mehreren Versuchen gesperrt.",
            "Der Bestätigungscode per SMS wird nicht akzeptiert.",
        ),
        "app_crash": (
            "Die App stürzt auf meinem {device} jedes Mal beim Öffnen ab.",
            "Seit dem Update auf Version {version} schließt sich die App sofort wieder.",
            "Beim Bezahlen friert die App ein und stürzt dann ab.",
            "Die App zeigt nur einen schwarzen Bildschirm und beendet sich.",
        ),
        "shipping_delivery": (
            "Meine Bestellung {order} sollte vor {days} Tagen ankommen und ist immer noch "
            "nicht da.",
            "Laut Sendungsverfolgung wurde das Paket zugestellt, aber ich habe nichts erhalten.",
            "Die Sendungsverfolgung von {carrier} wurde seit dem {date} nicht aktualisiert.",
            "Ich habe den falschen Artikel bekommen, bestellt hatte ich ein {product}.",
        ),
        "cancellation": (
            "Bitte kündigen Sie mein {plan}-Abo zum nächstmöglichen Zeitpunkt.",
            "Ich möchte die Bestellung {order} stornieren, bevor sie verschickt wird.",
            "Wie kann ich kündigen? Ich finde die Option nirgends.",
            "Bitte löschen Sie mein Konto und alle meine Daten.",
        ),
        "product_question": (
            "Ist das {product} mit meinem {device} kompatibel?",
            "Welche Garantie gibt es auf das {product}?",
            "Was ist der Unterschied zwischen dem {plan}-Tarif und dem nächsthöheren?",
            "Gibt es das {product} auch in anderen Farben?",
        ),
        "feature_request": (
            "Es wäre toll, wenn die App einen Dunkelmodus hätte.",
            "Könnten Sie einen Export der Bestellungen als CSV anbieten?",
            "Bitte ermöglichen Sie mehrere Lieferadressen im Konto.",
            "Eine Integration mit Slack wäre für unser Team sehr hilfreich.",
        ),
        "security_fraud": (
            "Jemand hat sich aus dem Ausland in mein Konto eingeloggt und die E-Mail-Adresse "
            "geändert.",
            "In meinem Konto ist eine Bestellung {order}, die ich nicht aufgegeben habe.",
            "Meine Karte mit Endziffern {last4} wurde für einen Kauf über {amount} verwendet, "
            "den ich nicht getätigt habe.",
            "Ich habe eine E-Mail bekommen, die nach meinem Passwort fragt - ist das Phishing?",
        ),
    },
    "es": {
        "billing": (
            "Me cobraron {amount} dos veces por el pedido {order}.",
            "La factura del {date} no es correcta, el importe de {amount} es demasiado alto.",
            "Cambié al plan {plan} pero me siguen cobrando el precio anterior.",
            "El pago aparece como fallido pero el dinero se descontó de mi cuenta.",
        ),
        "refund": (
            "Devolví el {product} el {date} y todavía no he recibido el reembolso.",
            "Por favor, reembólsenme {amount} del pedido {order}.",
            "El {product} llegó roto, quiero que me devuelvan el dinero.",
            "Me confirmaron el reembolso hace {days} días y no ha llegado nada.",
        ),
        "coupon_promo": (
            "El código {code} dice que no es válido al pagar.",
            "Usé el cupón {code} pero no me aplicaron el descuento.",
            "La promoción del anuncio sigue vigente pero en el carrito aparece el precio "
            "completo.",
            "¿Se puede aplicar el código {code} al pedido {order} después de la compra?",
        ),
        "account_access": (
            "No puedo entrar en mi cuenta, dice que la contraseña es incorrecta.",
            "El correo para restablecer la contraseña nunca llega.",
            "Mi cuenta se bloqueó después de varios intentos.",
            "El código de verificación por SMS siempre es rechazado.",
        ),
        "app_crash": (
            "La app se cierra cada vez que la abro en mi {device}.",
            "Desde la actualización a la versión {version} la aplicación se cierra al iniciar.",
            "La app se congela al pagar y luego se cierra.",
            "Solo veo una pantalla negra y la app se cierra.",
        ),
        "shipping_delivery": (
            "Mi pedido {order} debía llegar hace {days} días y sigue sin llegar.",
            "El seguimiento dice entregado pero no he recibido ningún paquete.",
            "El seguimiento de {carrier} no se actualiza desde el {date}.",
            "Recibí un artículo equivocado, yo pedí un {product}.",
        ),
        "cancellation": (
            "Por favor, cancelen mi suscripción {plan} de inmediato.",
            "Quiero cancelar el pedido {order} antes de que se envíe.",
            "¿Cómo cancelo? No encuentro la opción en ningún sitio.",
            "Por favor, eliminen mi cuenta y todos mis datos.",
        ),
        "product_question": (
            "¿El {product} es compatible con mi {device}?",
            "¿Qué garantía tiene el {product}?",
            "¿Cuál es la diferencia entre el plan {plan} y el superior?",
            "¿El {product} está disponible en otros colores?",
        ),
        "feature_request": (
            "Sería genial que la app tuviera modo oscuro.",
            "¿Podrían añadir la opción de exportar los pedidos a CSV?",
            "Por favor, permitan guardar varias direcciones de envío.",
            "Una integración con Slack sería muy útil para nuestro equipo.",
        ),
        "security_fraud": (
            "Alguien entró en mi cuenta desde otro país y cambió mi correo.",
            "Hay un pedido {order} en mi cuenta que yo no hice.",
            "Usaron mi tarjeta terminada en {last4} para una compra de {amount} que no "
            "reconozco.",
            "Recibí un correo pidiendo mi contraseña, ¿es phishing?",
        ),
    },
    "fr": {
        "billing": (
            "J'ai été débité deux fois de {amount} pour la commande {order}.",
            "La facture du {date} est fausse, le montant de {amount} est trop élevé.",
            "Je suis passé à l'offre {plan} mais je paie toujours l'ancien prix.",
            "Le paiement a échoué selon le site, mais l'argent a été prélevé sur mon compte.",
        ),
        "refund": (
            "J'ai renvoyé le {product} le {date} et je n'ai toujours pas été remboursé.",
            "Merci de me rembourser {amount} pour la commande {order}.",
            "Le {product} est arrivé cassé, je veux être remboursé.",
            "Le remboursement a été confirmé il y a {days} jours mais rien n'est arrivé.",
        ),
        "coupon_promo": (
            "Le code promo {code} est refusé au moment du paiement.",
            "J'ai saisi le code {code} mais la réduction n'a pas été appliquée.",
            "La promotion est toujours annoncée mais le panier affiche le prix normal.",
            "Peut-on appliquer le code {code} à la commande {order} après coup ?",
        ),
        "account_access": (
            "Je n'arrive plus à me connecter, le mot de passe est toujours refusé.",
            "L'e-mail de réinitialisation du mot de passe n'arrive jamais.",
            "Mon compte a été bloqué après plusieurs tentatives.",
            "Le code de vérification reçu par SMS est toujours rejeté.",
        ),
        "app_crash": (
            "L'application plante à chaque ouverture sur mon {device}.",
            "Depuis la mise à jour vers la version {version}, l'appli se ferme tout de suite.",
            "L'application se fige au moment du paiement puis se ferme.",
            "J'ai un écran noir et l'application se ferme.",
        ),
        "shipping_delivery": (
            "Ma commande {order} devait arriver il y a {days} jours et elle n'est toujours pas "
            "là.",
            "Le suivi indique livré mais je n'ai reçu aucun colis.",
            "Le suivi {carrier} n'a pas bougé depuis le {date}.",
            "J'ai reçu le mauvais article, j'avais commandé un {product}.",
        ),
        "cancellation": (
            "Merci de résilier mon abonnement {plan} immédiatement.",
            "Je souhaite annuler la commande {order} avant son expédition.",
            "Comment résilier ? Je ne trouve l'option nulle part.",
            "Merci de supprimer mon compte et toutes mes données.",
        ),
        "product_question": (
            "Le {product} est-il compatible avec mon {device} ?",
            "Quelle est la garantie du {product} ?",
            "Quelle est la différence entre l'offre {plan} et l'offre supérieure ?",
            "Le {product} existe-t-il dans d'autres couleurs ?",
        ),
        "feature_request": (
            "Ce serait super si l'application avait un mode sombre.",
            "Pourriez-vous ajouter l'export des commandes en CSV ?",
            "Merci de permettre plusieurs adresses de livraison.",
            "Une intégration avec Slack serait très utile pour notre équipe.",
        ),
        "security_fraud": (
            "Quelqu'un s'est connecté à mon compte depuis l'étranger et a changé mon e-mail.",
            "Il y a une commande {order} sur mon compte que je n'ai pas passée.",
            "Ma carte se terminant par {last4} a été utilisée pour un achat de {amount} que je "
            "n'ai pas fait.",
            "J'ai reçu un e-mail qui me demande mon mot de passe, est-ce du phishing ?",
        ),
    },
}

_DETAILS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "billing": (
            "I've attached a screenshot of my bank statement.", "The charge appeared on {date}.",
            "My accountant needs the corrected invoice before month end.",
            "I checked and the card details in my account are correct.",
            "Please tell me which payment method you have on file.",
            "It says 'pending' in the app but the money is gone.",
        ),
        "refund": (
            "The tracking shows the return was delivered to your warehouse.",
            "I still have the original packaging.", "Return reference: {order}.",
            "I really need this money back before the end of the month.",
            "The item was unused.",
        ),
        "coupon_promo": (
            "I saw the offer on Instagram.",
            "The error message says 'code not applicable to items in cart'.",
            "I tried on both the app and the website.",
            "The order total was {amount} before the code.",
            "My friend got the discount on the same day.",
        ),
        "account_access": (
            "I've tried three different browsers.", "I'm using a {device}.",
            "Cleared cookies and cache, no difference.", "It worked fine until {date}.",
            "I have orders in there I need to see.",
        ),
        "app_crash": (
            "I already reinstalled it twice.", "My phone's software is up to date.",
            "It worked perfectly on the previous version.", "Restarting the phone doesn't help.",
            "Error code: E-{last4}.", "Happy to send logs if you tell me how.",
        ),
        "shipping_delivery": (
            "Tracking number: {carrier} {last4}{order}.", "I need it for a birthday on {date}.",
            "Nobody rang the bell, I was home all day.", "The address on the order is correct.",
            "Please don't tell me to wait another week.",
        ),
        "cancellation": (
            "Please confirm by email once it's done.", "I don't want to be charged again.",
            "Nothing personal, it just isn't for me.",
            "My customer number should be on file.",
        ),
        "product_question": (
            "I'm deciding between this and a competitor.",
            "I'd like to order this week if possible.", "I couldn't find this in the FAQ.",
            "It's a gift so I want to be sure.",
        ),
        "feature_request": (
            "Most of your competitors already have this.", "I'd happily pay a bit more for it.",
            "Just a suggestion, otherwise everything works well.",
            "Our whole team keeps asking for this.",
        ),
        "security_fraud": (
            "I've already changed my password.", "I'm reporting this to my bank as well.",
            "The login was from an IP in another country.",
            "Please check who accessed the account on {date}.", "This is very worrying.",
        ),
    },
    "de": {
        "billing": ("Ein Screenshot vom Kontoauszug ist angehängt.",
                    "Die Abbuchung erfolgte am {date}."),
        "refund": ("Die Retoure ist laut Sendungsverfolgung bei Ihnen angekommen.",
                   "Der Artikel war unbenutzt."),
        "coupon_promo": ("Ich habe es in der App und auf der Webseite versucht.",
                         "Die Aktion habe ich auf Instagram gesehen."),
        "account_access": ("Ich habe schon verschiedene Browser probiert.",
                           "Ich nutze ein {device}."),
        "app_crash": ("Ich habe die App schon zweimal neu installiert.",
                      "Mit der alten Version lief alles problemlos."),
        "shipping_delivery": ("Die Adresse in der Bestellung ist korrekt.",
                              "Ich war den ganzen Tag zu Hause."),
        "cancellation": ("Bitte bestätigen Sie die Kündigung per E-Mail.",
                         "Ich möchte nicht noch einmal belastet werden."),
        "product_question": ("In den FAQ habe ich dazu nichts gefunden.",
                             "Ich würde gerne diese Woche bestellen."),
        "feature_request": ("Die meisten Konkurrenten bieten das schon an.",
                            "Ansonsten bin ich sehr zufrieden."),
        "security_fraud": ("Mein Passwort habe ich bereits geändert.",
                           "Ich habe auch meine Bank informiert."),
    },
    "es": {
        "billing": ("Adjunto una captura del extracto bancario.", "El cargo apareció el {date}."),
        "refund": ("Según el seguimiento, la devolución ya llegó a su almacén.",
                   "El artículo no se usó."),
        "coupon_promo": ("Lo intenté en la app y en la web.", "Vi la oferta en Instagram."),
        "account_access": ("Ya probé con varios navegadores.", "Uso un {device}."),
        "app_crash": ("Ya la reinstalé dos veces.", "Con la versión anterior funcionaba bien."),
        "shipping_delivery": ("La dirección del pedido es correcta.",
                              "Estuve en casa todo el día."),
        "cancellation": ("Confírmenme la cancelación por correo, por favor.",
                         "No quiero que me vuelvan a cobrar."),
        "product_question": ("No encontré nada en las preguntas frecuentes.",
                             "Quiero comprarlo esta semana."),
        "feature_request": ("La mayoría de la competencia ya lo ofrece.",
                            "Por lo demás, estoy muy contento."),
        "security_fraud": ("Ya cambié mi contraseña.", "También avisé a mi banco."),
    },
    "fr": {
        "billing": ("Je joins une capture de mon relevé bancaire.",
                    "Le prélèvement date du {date}."),
        "refund": ("Le suivi indique que le retour est arrivé à votre entrepôt.",
                   "L'article n'a pas été utilisé."),
        "coupon_promo": ("J'ai essayé sur l'application et sur le site.",
                         "J'ai vu l'offre sur Instagram."),
        "account_access": ("J'ai déjà essayé plusieurs navigateurs.", "J'utilise un {device}."),
        "app_crash": ("Je l'ai déjà réinstallée deux fois.",
                      "Avec l'ancienne version tout marchait bien."),
        "shipping_delivery": ("L'adresse de la commande est correcte.",
                              "J'étais chez moi toute la journée."),
        "cancellation": ("Merci de me confirmer la résiliation par e-mail.",
                         "Je ne veux pas être débité à nouveau."),
        "product_question": ("Je n'ai rien trouvé dans la FAQ.",
                             "Je voudrais commander cette semaine."),
        "feature_request": ("La plupart de vos concurrents le proposent déjà.",
                            "Sinon, je suis très satisfait."),
        "security_fraud": ("J'ai déjà changé mon mot de passe.", "J'ai aussi prévenu ma banque."),
    },
}

# English tickets that honestly fit two categories; each is used for both (either label).
_AMBIGUOUS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("billing", "refund"), "I was charged {amount} twice for order {order}, please refund "
                            "one of them."),
    (("billing", "refund"), "I need the {amount} back that you charged me on {date}."),
    (("billing", "security_fraud"), "There's a charge of {amount} on my card ending {last4} "
                                    "that I can't explain."),
    (("account_access", "security_fraud"), "I can't get into my account and I got a password "
                                           "reset email I didn't request."),
    (("account_access", "app_crash"), "The app closes every time I try to log in on my "
                                      "{device}."),
    (("cancellation", "refund"), "I cancelled my subscription but was still charged {amount}, "
                                 "I want it back."),
    (("cancellation", "billing"), "Please stop charging me, I don't use the {plan} plan "
                                  "anymore."),
    (("coupon_promo", "billing"), "I was charged full price, {amount}, even though there was a "
                                  "sale on."),
    (("coupon_promo", "refund"), "The discount wasn't applied, can you refund the difference "
                                 "for order {order}?"),
    (("shipping_delivery", "refund"), "My package never arrived, I'd like my money back."),
    (("shipping_delivery", "cancellation"), "Order {order} still hasn't shipped, cancel it if "
                                            "it can't arrive this week."),
    (("product_question", "feature_request"), "Does the app support exporting to CSV? If not, "
                                              "please consider adding it."),
    (("product_question", "shipping_delivery"), "How long does shipping usually take for the "
                                                "{product}?"),
    (("app_crash", "feature_request"), "The app is so slow on my {device} it's basically "
                                       "unusable, please improve it."),
    (("billing", "cancellation"), "Why am I still being billed after I closed my account?"),
    (("security_fraud", "refund"), "I didn't authorise the {amount} payment for order {order}, "
                                   "I want the money returned."),
)
# Says nothing about the category at all.
_VAGUE = {
    "en": ("I have a problem with my account, can someone help?",
           "Please call me back about my order.", "Something is wrong, please check.",
           "Hi, I need help with order {order}.", "Can someone contact me asap?",
           "It's still not working.", "Following up on my previous message, any news?"),
    "de": ("Ich habe ein Problem mit meinem Konto, bitte melden Sie sich.",
           "Es funktioniert immer noch nicht."),
    "es": ("Tengo un problema con mi cuenta, ¿me pueden ayudar?", "Sigue sin funcionar."),
    "fr": ("J'ai un problème avec mon compte, pouvez-vous m'aider ?",
           "Ça ne marche toujours pas."),
}
# Written during the outage (English); labelled app_crash or account_access.
_INCIDENT_ISSUES = {
    "app_crash": (
        "Your app has been down all morning, nothing loads.",
        "Is there an outage? The app just shows 'Service unavailable'.",
        "The app and the website both crash with an error since this morning.",
    ),
    "account_access": (
        "Is there an outage? I can't log in and the app just shows an error.",
        "Been trying to log in for hours, it keeps saying 'something went wrong'.",
        "Nobody on our team can sign in right now, is your system down?",
    ),
}

_GREETINGS = {
    "en": ("Hi,", "Hello,", "Hi there,", "Dear Support,", "Dear support team,", "Hey,",
           "Good morning,", "To whom it may concern,", "Hello team,", "Hi {name} here."),
    "de": ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,", "Moin,"),
    "es": ("Hola,", "Buenos días,", "Estimado equipo de soporte:", "Hola equipo,"),
    "fr": ("Bonjour,", "Madame, Monsieur,", "Bonjour l'équipe,", "Salut,"),
}
_CHAT_GREETINGS = {
    "en": ("hi", "hello", "hey there,", "Hi!", "hello?"),
    "de": ("hallo", "Hi,"), "es": ("hola", "Hola,"), "fr": ("bonjour", "salut,"),
}
_TONES: dict[str, tuple[tuple[str, ...], ...]] = {  # furious, angry, neutral, positive, delighted
    "en": (
        ("THIS IS UNACCEPTABLE!!!", "This is absolutely unacceptable.", "I am beyond furious.",
         "Worst customer service I have ever experienced!!!",
         "Fix this NOW or I'm disputing the charge and leaving a review everywhere.",
         "I'm DONE with your company.", "Are you kidding me?! This is ridiculous."),
        ("I'm really frustrated.", "This is the second time this has happened.",
         "Honestly pretty disappointed.", "Not happy about this at all.",
         "This is really annoying.", "I expected better from you."),
        ("Could you please look into it?", "Let me know if you need anything else from me.",
         "Please advise.", "What are my options?", "Can you check?",
         "Looking forward to your reply."),
        ("Thanks for your help!", "Appreciate it.",
         "Thanks in advance, otherwise I love the product.", "Thank you, have a nice day!"),
        ("Thanks so much, you're great!", "You guys are amazing, keep it up!",
         "Love your service, thank you!!", "Best support team ever, thank you :)"),
    ),
    "de": (
        ("DAS IST EINE FRECHHEIT!!!", "Das ist absolut inakzeptabel.", "Ich bin stinksauer.",
         "Schlechtester Kundenservice überhaupt!!!"),
        ("Ich bin wirklich frustriert.", "Das ist schon das zweite Mal.",
         "Ehrlich gesagt bin ich enttäuscht."),
        ("Könnten Sie das bitte prüfen?", "Was kann ich tun?", "Bitte um kurze Rückmeldung."),
        ("Vielen Dank für Ihre Hilfe!", "Danke im Voraus."),
        ("Vielen lieben Dank, Sie sind super!", "Toller Service, weiter so!"),
    ),
    "es": (
        ("¡¡¡ESTO ES INACEPTABLE!!!", "Esto es totalmente inaceptable.", "Estoy furioso.",
         "¡El peor servicio al cliente que he visto!"),
        ("Estoy muy frustrado.", "Es la segunda vez que pasa.", "La verdad, estoy decepcionado."),
        ("¿Pueden revisarlo, por favor?", "¿Qué opciones tengo?", "Quedo atento a su respuesta."),
        ("¡Gracias por la ayuda!", "Gracias de antemano."),
        ("¡Muchísimas gracias, son geniales!", "¡Me encanta su servicio, gracias!"),
    ),
    "fr": (
        ("C'EST INADMISSIBLE !!!", "C'est totalement inacceptable.", "Je suis furieux.",
         "Le pire service client que j'aie connu !!!"),
        ("Je suis vraiment agacé.", "C'est la deuxième fois que ça arrive.",
         "Franchement, je suis déçu."),
        ("Pourriez-vous vérifier, s'il vous plaît ?", "Quelles sont mes options ?",
         "Dans l'attente de votre retour."),
        ("Merci pour votre aide !", "Merci d'avance."),
        ("Merci infiniment, vous êtes géniaux !", "Super service, merci beaucoup !"),
    ),
}
_WAITING = {  # angry about waiting (vip and enterprise customers especially)
    "en": ("I've been waiting {days} days for an answer.",
           "Nobody has replied to my last {days} emails.",
           "I've been on hold for over an hour.",
           "This is my third ticket about this and still no reply.",
           "As a long-standing customer I expect a much faster response than this.",
           "We pay for the {plan} plan and have been waiting {days} days. Unacceptable."),
    "de": ("Ich warte seit {days} Tagen auf eine Antwort.",
           "Auf meine letzten E-Mails hat niemand reagiert."),
    "es": ("Llevo {days} días esperando una respuesta.",
           "Nadie ha contestado a mis últimos correos."),
    "fr": ("J'attends une réponse depuis {days} jours.",
           "Personne n'a répondu à mes derniers e-mails."),
}
_ALSO = {  # introduces a second, unrelated issue
    "en": ("Also: ", "Another thing: ", "P.S. ", "One more thing: ", "Separate issue: "),
    "de": ("Außerdem: ", "Noch etwas: ", "PS: "),
    "es": ("Además: ", "Otra cosa: ", "PD: "),
    "fr": ("Autre chose : ", "Par ailleurs : ", "PS : "),
}
_PII = {  # (kind, sentence); kinds: email, phone, card
    "en": (("email", "Please reply to {email}, I don't check the other inbox."),
           ("email", "My email is {email}."), ("email", "You can reach me at {email}."),
           ("phone", "Call me on {phone} if that's easier."), ("phone", "My number is {phone}."),
           ("phone", "Please call back: {phone}."),
           ("card", "The card used was {card}."),
           ("card", "My card number is {card} if you need it to find the payment."),
           ("card", "Card: {card}, exp 09/27.")),
    "de": (("email", "Meine E-Mail-Adresse ist {email}."),
           ("phone", "Rufen Sie mich gerne unter {phone} an."),
           ("card", "Die Kartennummer ist {card}.")),
    "es": (("email", "Mi correo es {email}."), ("phone", "Pueden llamarme al {phone}."),
           ("card", "El número de tarjeta es {card}.")),
    "fr": (("email", "Mon e-mail est {email}."), ("phone", "Vous pouvez m'appeler au {phone}."),
           ("card", "Le numéro de carte est {card}.")),
}
_SIGNATURES = {
    "en": ("Thanks,\n{name}", "Best regards,\n{name} {last}", "--\n{name}\nSent from my iPhone",
           "Kind regards,\n{name} {last}\n{company}", "Cheers,\n{name}", "{name}",
           "Thank you,\n{name} {last}", "Regards,\n{name}\n\nSent from my Android phone",
           "Best,\n{name}", "Many thanks,\n{name} {last}\n{company}\n{phone}",
           "Thanks in advance,\n{name}", "Sincerely,\n{name} {last}"),
    "de": ("Viele Grüße\n{name}", "Mit freundlichen Grüßen\n{name} {last}",
           "--\n{name}\nVon meinem iPhone gesendet", "MfG\n{name} {last}\n{company}",
           "Danke und Gruß\n{name}"),
    "es": ("Saludos,\n{name}", "Un saludo,\n{name} {last}", "--\n{name}\nEnviado desde mi iPhone",
           "Atentamente,\n{name} {last}\n{company}"),
    "fr": ("Cordialement,\n{name} {last}", "Bien à vous,\n{name}",
           "--\n{name}\nEnvoyé de mon iPhone", "Merci,\n{name}\n{company}"),
}
_AGENT_REPLIES = {  # quoted under "On ..., Acme Support wrote:"
    "en": ("Thanks for reaching out! Could you send us your order number so we can look into "
           "this?",
           "Hi,\nthanks for your patience. We've escalated this to our specialist team and will "
           "get back to you within 24 hours.\n\nBest,\nAcme Support",
           "Hello,\nwe're sorry for the trouble. Could you try logging out and back in, and let "
           "us know if the problem persists?",
           "Thanks for contacting Acme Support.\nYour request has been received and a ticket "
           "has been created."),
    "de": ("Vielen Dank für Ihre Nachricht! Können Sie uns bitte Ihre Bestellnummer schicken?",
           "Hallo,\nwir haben Ihr Anliegen an unser Fachteam weitergeleitet und melden uns "
           "innerhalb von 24 Stunden."),
    "es": ("¡Gracias por escribirnos! ¿Podría enviarnos su número de pedido?",
           "Hola,\nhemos escalado su caso a nuestro equipo especializado y le responderemos en "
           "24 horas."),
    "fr": ("Merci de nous avoir contactés ! Pourriez-vous nous envoyer votre numéro de "
           "commande ?",
           "Bonjour,\nnous avons transmis votre demande à notre équipe spécialisée et "
           "reviendrons vers vous sous 24 heures."),
}
_QUOTE_HEADER = {  # {who} <{addr}> wrote: as the mail programs write it in each language
    "en": "On {wd}, {mon} {d}, {y} at {h12}:{mi:02d} {ampm}, {who} <{addr}> wrote:",
    "de": "Am {wd}, {d}. {mon} {y} um {h:02d}:{mi:02d} Uhr schrieb {who} <{addr}>:",
    "es": "El {wd}, {d} {mon} {y} a las {h:02d}:{mi:02d}, {who} (<{addr}>) escribió:",
    "fr": "Le {wd} {d} {mon} {y} à {h:02d}:{mi:02d}, {who} <{addr}> a écrit :",
}
_SUPPORT_SENDER = ("Acme Support", "support@example.com")
# Category-neutral background some customers add (makes bodies longer, not easier).
_CONTEXT = {
    "en": ("I've been a customer for {days} years and never had a problem like this before.",
           "I ordered on {date} and paid {amount} by card.",
           "I already contacted you via chat but the conversation was closed without an "
           "answer.",
           "I'm travelling next week so I need this sorted quickly.",
           "I have read the help center articles but they didn't answer my question.",
           "This is for my small business, so it matters a lot to us.",
           "My partner uses the same account and has had no issues so far.",
           "I saw on social media that other people are asking about the same thing.",
           "To be honest I'm not very technical, so please explain it simply.",
           "I'm writing from my work computer, so replies by email are best."),
    "de": ("Ich bin seit Jahren Kunde und hatte noch nie so ein Problem.",
           "Ich habe am {date} bestellt und {amount} mit Karte bezahlt."),
    "es": ("Soy cliente desde hace años y nunca había tenido un problema así.",
           "Hice el pedido el {date} y pagué {amount} con tarjeta."),
    "fr": ("Je suis client depuis des années et je n'ai jamais eu ce problème.",
           "J'ai commandé le {date} et payé {amount} par carte."),
}
_WEEKDAY_ABBR = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
}
_DATE_FORMAT = {"en": "{month} {d}", "de": "{d}. {month}", "es": "{d} de {month}",
                "fr": "{d} {month}"}
_PHONE_PREFIX = {"en": "[Phone call] ", "de": "[Anruf] ", "es": "[Llamada] ", "fr": "[Appel] "}
_SOCIAL_HANDLE = "@AcmeSupport "

_FIRST_NAMES = {
    "en": ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
           "David", "Elizabeth", "William", "Susan", "Richard", "Jessica", "Joseph", "Sarah",
           "Thomas", "Karen", "Chris", "Lisa", "Daniel", "Nancy", "Matthew", "Emily", "Anthony",
           "Ashley", "Mark", "Olivia", "Kevin", "Emma", "Jane", "Priya", "Wei", "Aisha"),
    "de": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Laura", "Jürgen",
           "Sabine", "Stefan", "Katrin", "Tobias", "Julia", "Maximilian"),
    "es": ("José", "María", "Antonio", "Carmen", "Manuel", "Lucía", "Javier", "Ana", "David",
           "Laura", "Sergio", "Marta", "Pablo", "Elena", "Alejandro"),
    "fr": ("Jean", "Marie", "Pierre", "Camille", "Louis", "Chloé", "Hugo", "Léa", "Thomas",
           "Manon", "Nicolas", "Julie", "Antoine", "Sophie", "François"),
}
_LAST_NAMES = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
           "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
           "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
           "Wright", "Patel", "Nguyen", "Chen", "Okafor"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann"),
    "es": ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier"),
}
_EMAIL_DOMAINS = {
    "en": ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "example.com"),
    "de": ("web.de", "gmx.de", "gmail.com", "t-online.de"),
    "es": ("gmail.com", "hotmail.es", "yahoo.es"),
    "fr": ("orange.fr", "gmail.com", "free.fr", "laposte.net"),
}
_COMPANIES = ("Northwind Traders", "Globex Corporation", "Initech", "Umbrella Logistics",
              "Contoso Ltd", "Vandelay Industries", "Stark Solutions", "Wayne Analytics",
              "Hooli", "Pied Piper", "Soylent Foods", "Tyrell Systems", "Cyberdyne Labs",
              "Acme Widgets GmbH", "Blue Sun Trading", "Oceanic Partners", "Massive Dynamic",
              "Wonka Confections")
_PRODUCTS = ("Aurora Headphones", "Nimbus Smart Speaker", "Trail Backpack 30L",
             "Pulse Fitness Watch", "Breeze Air Purifier", "Zen Coffee Grinder", "Orbit Phone Case",
             "Lumen Desk Lamp", "Glide Running Shoes", "Cascade Water Bottle",
             "Vertex Gaming Mouse", "Harbor Rain Jacket", "Polar Thermos", "Sprout Plant Kit",
             "Atlas Travel Adapter", "Echo Lake Tent")
_DEVICES = ("iPhone 15", "iPhone 13", "Pixel 8", "Galaxy S23", "iPad Air", "OnePlus 11",
            "Galaxy A54", "Redmi Note 12", "iPhone SE", "Pixel 7a")
_VERSIONS_BEFORE = ("4.8.7", "4.9.0", "4.9.2", "4.9.3")
_VERSIONS_AFTER = ("5.0", "5.0.0", "5.0.1", "5.0.2")
_CARRIERS = ("UPS", "DHL", "FedEx", "USPS", "DPD", "Hermes", "GLS", "Royal Mail")
_COUPON_CODES = (DISCOUNT_CODE, "WELCOME10", "FREESHIP", "SAVE15", "STUDENT20", "VIP25",
                 "FRIEND10", "SUMMER15")
_CARDS = ("4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111",
          "5555 5555 5555 4444", "5105 1051 0510 5100", "4012 8888 8888 1881",
          "4242 4242 4242 4242", "6011 1111 1111 1117", "3782 822463 10005")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e",
                           "á": "a", "í": "i", "ó": "o", "ú": "u", "ñ": "n", "ç": "c", "ï": "i"})

# Per-ticket text knobs.
_P_AMBIGUOUS = 0.14  # English tickets written with an ambiguous (two-category) sentence
_P_VAGUE = 0.045  # tickets that say nothing specific
_P_SECOND_ISSUE = 0.08
_P_GENERIC_SUBJECT = 0.18
_P_QUOTE = 0.22  # of e-mail tickets
_P_TYPO = 0.12
_P_PII = {"email": 0.035, "phone": 0.035, "card": 0.015}
_PII_CARD_CATEGORIES = ("billing", "refund", "security_fraud")

# =============================================================================================
# Template pools
# =============================================================================================

_SLOT_RE = re.compile(r"\{(\w+)\}")
_SLOT_INDEX = {name: i for i, name in enumerate(_SLOTS)}


def _compile(template: str) -> str:
    """'{order} was {amount}' -> '{0} was {1}': positional slots for a fast str.format(*slots)."""
    return _SLOT_RE.sub(lambda m: "{" + str(_SLOT_INDEX[m.group(1)]) + "}", template)


class _Pool:
    """A flat array of compiled templates; ``key -> (offset, size)``. Item 0 is "" (= none)."""

    def __init__(self) -> None:
        self._items: list[str] = [""]
        self.index: dict[tuple[str, ...], tuple[int, int]] = {}

    def add(self, key: tuple[str, ...], templates: Sequence[str]) -> None:
        if not templates:
            raise ValueError(f"empty template pool {key}")
        self.index[key] = (len(self._items), len(templates))
        self._items.extend(_compile(t) for t in templates)

    def grid(self, keys: Callable[[int, int], tuple[str, ...]], rows: int, cols: int
             ) -> tuple[np.ndarray, np.ndarray]:
        """Offset and size arrays (rows x cols) for vectorized choice."""
        off = np.zeros((rows, cols), dtype=np.int64)
        size = np.zeros((rows, cols), dtype=np.int64)
        for r in range(rows):
            for c in range(cols):
                off[r, c], size[r, c] = self.index[keys(r, c)]
        return off, size

    def freeze(self) -> None:
        self.items = np.array(self._items, dtype=object)


def _build_pools() -> dict[str, _Pool]:
    subj, issue, detail, misc = _Pool(), _Pool(), _Pool(), _Pool()
    for lang in LANGUAGES:
        for cat in CATEGORIES:
            subj.add(("cat", lang, cat), _SUBJECTS[lang][cat])
            issue.add(("cat", lang, cat), _ISSUES[lang][cat])
            detail.add(("cat", lang, cat), _DETAILS[lang][cat])
        subj.add(("generic", lang), _GENERIC_SUBJECTS[lang])
        subj.add(("chat", lang), _CHAT_SUBJECTS[lang])
        subj.add(("phone", lang), _PHONE_SUBJECTS[lang])
        subj.add(("social", lang), _SOCIAL_SUBJECTS[lang])
        issue.add(("vague", lang), _VAGUE[lang])
        misc.add(("greet", lang), _GREETINGS[lang])
        misc.add(("chat_greet", lang), _CHAT_GREETINGS[lang])
        for tone in range(5):
            misc.add(("tone", lang, str(tone)), _TONES[lang][tone])
        misc.add(("waiting", lang), _WAITING[lang])
        misc.add(("also", lang), _ALSO[lang])
        misc.add(("context", lang), _CONTEXT[lang])
        misc.add(("sig", lang), _SIGNATURES[lang])
        quoted = tuple("\n".join("> " + line if line else ">" for line in r.split("\n"))
                       for r in _AGENT_REPLIES[lang])
        misc.add(("quote", lang), quoted)
        for kind in _P_PII:
            misc.add(("pii", lang, kind), tuple(s for k, s in _PII[lang] if k == kind))
    for cat in CATEGORIES:
        issue.add(("ambiguous", cat), tuple(t for cats, t in _AMBIGUOUS if cat in cats))
    for cat, templates in _INCIDENT_ISSUES.items():
        issue.add(("incident", cat), templates)
    pools = {"subject": subj, "issue": issue, "detail": detail, "misc": misc}
    for p in pools.values():
        p.freeze()
    return pools


_POOLS = _build_pools()

# =============================================================================================
# Small helpers
# =============================================================================================

_Progress = Callable[[str, int, int], None]
_EPOCH = datetime(1970, 1, 1)
_DAY = 86_400
_HOUR = 3_600


def _secs(value: datetime | str) -> int:
    """Naive UTC datetime (or 'YYYY-MM-DD HH:MM') -> seconds since the epoch."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return int((value - _EPOCH).total_seconds())


_START = _secs(TICKETS_FROM)
_END = _secs(TICKETS_UNTIL)
_INC_START = _secs(INCIDENT_FROM)
_INC_END = _secs(INCIDENT_UNTIL)
_CAMPAIGN_BY_ID = {c[0]: c for c in _CAMPAIGNS}
_DISCOUNT_START = _secs(_CAMPAIGN_BY_ID[DISCOUNT_CAMPAIGN_IDS[0]][6])
_DISCOUNT_END = _secs(_CAMPAIGN_BY_ID[DISCOUNT_CAMPAIGN_IDS[0]][7])
_APP_LAUNCH = _secs(_CAMPAIGN_BY_ID[APP_RELEASE_CAMPAIGN_IDS[0]][6])
_NEVER = np.iinfo(np.int64).max


def _pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
          ) -> np.ndarray:
    """Draw ``size`` indices with probability proportional to ``weights``."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    idx = np.searchsorted(cum, rng.random(size) * cum[-1], side="right")
    return np.minimum(idx, len(cum) - 1)


def _pick_rows(rng: np.random.Generator, table: Sequence[Sequence[float]] | np.ndarray,
               rows: np.ndarray) -> np.ndarray:
    """Per element, draw a column of ``table[rows[i]]`` (rows are probability vectors)."""
    t = np.asarray(table, dtype=np.float64)
    cum = np.cumsum(t / t.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(rows.size)
    out = np.zeros(rows.size, dtype=np.int64)
    for k in range(t.shape[1] - 1):  # few columns: count thresholds passed, no n x k matrix
        out += u >= cum[rows, k]
    return out


def _pick_categories(rng: np.random.Generator, mix: Mapping[str, float], size: int
                     ) -> np.ndarray:
    """Category indices drawn from ``{category: probability}``."""
    codes = np.array([CATEGORIES.index(k) for k in mix])
    return codes[_pick(rng, list(mix.values()), size)]


def _choose(u: np.ndarray, off: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Pool index offset + floor(u * size), elementwise."""
    return off + np.minimum((u * size).astype(np.int64), size - 1)


def _day_of_week(t: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (t // _DAY + 3) % 7


def _timestamps(secs: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    values = (secs.astype(np.int64) * 1_000_000).astype("datetime64[us]")
    return pa.array(values, type=pa.timestamp("us"), mask=null)


def _iso(secs: np.ndarray) -> list[str]:
    """Seconds -> 'YYYY-MM-DD HH:MM:SS' strings."""
    text = np.datetime_as_string(secs.astype("datetime64[s]"), unit="s")
    return [s.replace("T", " ") for s in text.tolist()]


def _money(values: np.ndarray) -> list[str]:
    return [f"{v:.2f}" for v in values.tolist()]


_ARROW_TYPES = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"),
                "INTEGER": pa.int32(), "DOUBLE": pa.float64()}


def _arrow_schema(table: Table) -> pa.Schema:
    """The Parquet schema of a table: its columns, in order, with their DuckDB types."""
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in table.columns])


def _write_csv(path: Path, table: Table, columns: Mapping[str, Sequence[str]]) -> None:
    """Write string columns as CSV, in the schema's column order."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(table.column_names)
        w.writerows(zip(*(columns[name] for name in table.column_names), strict=True))


def _parquet_writer(path: Path, schema: pa.Schema, dictionary: Sequence[str]
                    ) -> pq.ParquetWriter:
    """zstd Parquet; dictionary encoding only where values repeat (faster, smaller)."""
    return pq.ParquetWriter(path, schema, compression="zstd", compression_level=_ZSTD_LEVEL,
                            use_dictionary=list(dictionary))


# =============================================================================================
# Customers
# =============================================================================================


@dataclass
class _Customers:
    ids: pa.Array
    created: np.ndarray  # seconds
    segment: np.ndarray
    plan: np.ndarray
    ltv: np.ndarray
    lang: np.ndarray
    first: np.ndarray  # index into _NAME_POOL (first names)
    last: np.ndarray
    company: np.ndarray  # index into _COMPANIES, -1 for consumers
    domain: np.ndarray  # index into the language's e-mail domains
    phone: np.ndarray  # 9 random digits
    weight: np.ndarray  # ticket propensity

    def __len__(self) -> int:
        return self.created.size


_FIRST_POOL = np.array([n for lang in LANGUAGES for n in _FIRST_NAMES[lang]], dtype=object)
_LAST_POOL = np.array([n for lang in LANGUAGES for n in _LAST_NAMES[lang]], dtype=object)
_FIRST_OFF = np.cumsum([0] + [len(_FIRST_NAMES[lang]) for lang in LANGUAGES])
_LAST_OFF = np.cumsum([0] + [len(_LAST_NAMES[lang]) for lang in LANGUAGES])


def _make_customers(rng: np.random.Generator, n: int) -> _Customers:
    width = max(6, len(str(n)))
    ids = pa.array([f"CU{i:0{width}d}" for i in range(1, n + 1)], type=pa.string())
    segment = _pick(rng, _SEGMENT_SHARE, n)
    old = rng.random(n) < 0.88
    history_start, history_end = _secs("2021-01-01"), _START
    created = np.where(
        old,
        history_start + (history_end - history_start) * rng.random(n) ** 0.7,
        _START + (_END - 5 * _DAY - _START) * rng.random(n),
    ).astype(np.int64)
    plan = _pick_rows(rng, _SEGMENT_PLAN, segment)
    ltv = np.empty(n)
    for s, (mu, sigma) in enumerate(_SEGMENT_LTV):
        m = segment == s
        ltv[m] = rng.lognormal(mu, sigma, int(m.sum()))
    vip = segment == _VIP
    ltv[vip] = 3000.0 * (1.0 + rng.pareto(1.3, int(vip.sum())))
    ltv = np.round(ltv, 2)
    lang = _pick(rng, _LANGUAGE_SHARE, n)
    first_size = np.diff(_FIRST_OFF)[lang]
    last_size = np.diff(_LAST_OFF)[lang]
    first = _FIRST_OFF[lang] + (rng.random(n) * first_size).astype(np.int64)
    last = _LAST_OFF[lang] + (rng.random(n) * last_size).astype(np.int64)
    company = np.where(segment == _CONSUMER, -1, rng.integers(0, len(_COMPANIES), n))
    domain = rng.integers(0, 1_000_000, n)
    phone = rng.integers(100_000_000, 999_999_999, n)
    activity = np.asarray(_SEGMENT_ACTIVITY)[segment]
    weight = rng.gamma(0.5, 1.0, n) * activity
    return _Customers(ids, created, segment, plan, ltv, lang, first, last, company, domain,
                      phone, weight)


def _write_customers(path: Path, cust: _Customers) -> None:
    _write_csv(path, CUSTOMERS, {
        "customer_id": cust.ids.to_pylist(),
        "created_at": _iso(cust.created),
        "segment": np.array(SEGMENTS, dtype=object)[cust.segment].tolist(),
        "plan": np.array(PLANS, dtype=object)[cust.plan].tolist(),
        "lifetime_value": _money(cust.ltv),
    })


# =============================================================================================
# Campaigns
# =============================================================================================


@dataclass
class _Campaigns:
    ids: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray  # effective end for touches (running campaigns: the snapshot)
    channel: np.ndarray  # index into _CAMPAIGN_CHANNELS
    reach: np.ndarray  # (segments x campaigns) touch weights
    spend: np.ndarray
    revenue: np.ndarray


def _make_campaigns(rng: np.random.Generator) -> _Campaigns:
    k = len(_CAMPAIGNS)
    start = np.array([_secs(c[6]) for c in _CAMPAIGNS], dtype=np.int64)
    end = np.array([_secs(c[7]) if c[7] else _END - 1 for c in _CAMPAIGNS], dtype=np.int64)
    channel = np.array([_CAMPAIGN_CHANNELS.index(c[2]) for c in _CAMPAIGNS])
    reach = np.tile(np.array([c[10] for c in _CAMPAIGNS], dtype=np.float64), (4, 1))
    for j, c in enumerate(_CAMPAIGNS):
        if c[0] in _CAMPAIGN_SEGMENT_BOOST:
            reach[:, j] *= _CAMPAIGN_SEGMENT_BOOST[c[0]]
    spend = np.round(np.array([c[8] for c in _CAMPAIGNS]) * rng.uniform(0.9, 1.1, k), 2)
    revenue = np.round(spend * np.array([c[9] for c in _CAMPAIGNS]) * rng.uniform(0.85, 1.15, k),
                       2)
    return _Campaigns(tuple(c[0] for c in _CAMPAIGNS), start, np.minimum(end, _END - 1),
                      channel, reach, spend, revenue)


def _write_campaigns(path: Path, camp: _Campaigns) -> None:
    ends = [_iso(np.array([_secs(c[7])]))[0] if c[7] else "" for c in _CAMPAIGNS]  # "" = running
    _write_csv(path, CAMPAIGNS, {
        "campaign_id": list(camp.ids),
        "name": [c[1] for c in _CAMPAIGNS],
        "channel": [c[2] for c in _CAMPAIGNS],
        "utm_source": [c[3] for c in _CAMPAIGNS],
        "utm_medium": [c[4] for c in _CAMPAIGNS],
        "utm_campaign": [c[5] for c in _CAMPAIGNS],
        "start_at": _iso(camp.start),
        "end_at": ends,
        "spend": _money(camp.spend),
        "revenue": _money(camp.revenue),
    })


# =============================================================================================
# Agents
# =============================================================================================


@dataclass
class _Agents:
    ids: pa.Array
    team: np.ndarray
    speaks: np.ndarray  # (agents x languages) bool
    capacity: np.ndarray
    rows: dict[str, list[str]]


def _make_agents(rng: np.random.Generator) -> _Agents:
    team = np.repeat(np.arange(len(TEAMS)), _TEAM_SIZES)
    n = team.size
    speaks = np.zeros((n, len(LANGUAGES)), dtype=bool)
    speaks[:, 0] = True
    speaks[:, 1:] = rng.random((n, 3)) < (0.2, 0.15, 0.12)
    for t in range(len(TEAMS)):  # every team can answer every language
        members = np.flatnonzero(team == t)
        for lang in range(1, len(LANGUAGES)):
            if not speaks[members, lang].any():
                speaks[members[rng.integers(0, members.size)], lang] = True
    capacity = np.where(team == TEAMS.index("vip_desk"), rng.integers(5, 13, n),
                        rng.integers(8, 26, n))
    first_team_member = np.r_[True, team[1:] != team[:-1]]
    senior = (team == TEAMS.index("vip_desk")) | first_team_member
    ids = [f"AG{i:03d}" for i in range(1, n + 1)]
    names, skills = [], []
    for i in range(n):
        lang = LANGUAGES[int(rng.choice(np.flatnonzero(speaks[i])))]
        first = _FIRST_NAMES[lang][int(rng.integers(0, len(_FIRST_NAMES[lang])))]
        last = _LAST_NAMES[lang][int(rng.integers(0, len(_LAST_NAMES[lang])))]
        names.append(f"{first} {last}")
        own = list(_TEAM_SKILLS[team[i]])
        extra = [s for s in _EXTRA_SKILLS if s not in own]
        if rng.random() < 0.3:
            own.append(extra[int(rng.integers(0, len(extra)))])
        skills.append(";".join(own))
    rows = {
        "agent_id": ids,
        "name": names,
        "team": [TEAMS[t] for t in team],
        "skills": skills,
        "languages": [";".join(LANGUAGES[j] for j in np.flatnonzero(s)) for s in speaks],
        "capacity": [str(c) for c in capacity.tolist()],
        "senior": [str(int(s)) for s in senior],
    }
    return _Agents(pa.array(ids, type=pa.string()), team, speaks, capacity, rows)


# =============================================================================================
# Touchpoints
# =============================================================================================

_TOUCHPOINT_SCHEMA = _arrow_schema(TOUCHPOINTS)


def _touch_block(rng: np.random.Generator, lo: int, hi: int, cust: _Customers,
                 camp: _Campaigns, touches: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Journeys of customers lo..hi-1: (customer, campaign, time, kind), sorted per customer."""
    m = hi - lo
    seg = cust.segment[lo:hi]
    k_lo, k_hi = touches
    journey = rng.random(m) < np.asarray(_SEGMENT_TOUCHED)[seg]
    k = k_lo + np.floor((k_hi - k_lo + 1) * rng.random(m) ** 1.6).astype(np.int64)
    k = np.where(journey, np.minimum(k, k_hi), 0)
    owner = np.repeat(np.arange(lo, hi), k)
    ci = _pick_rows(rng, camp.reach, cust.segment[owner])
    start, span = camp.start[ci], (camp.end - camp.start)[ci].astype(np.float64)
    u = rng.random(owner.size)
    decay = _EMAIL_DECAY_DAYS * _DAY
    email = camp.channel[ci] == _CAMPAIGN_CHANNELS.index("email")
    offset = np.where(email, -decay * np.log1p(-u * (1.0 - np.exp(-span / decay))), u * span)
    t = np.minimum(start + offset.astype(np.int64), _END - 1)
    kind = _pick_rows(rng, _KIND_BY_CHANNEL, camp.channel[ci])
    order = np.lexsort((kind, t, ci, owner))  # drop exact duplicates of the table key
    owner, ci, t, kind = owner[order], ci[order], t[order], kind[order]
    dup = np.zeros(owner.size, dtype=bool)
    dup[1:] = ((owner[1:] == owner[:-1]) & (ci[1:] == ci[:-1]) & (t[1:] == t[:-1])
               & (kind[1:] == kind[:-1]))
    keep = ~dup
    owner, ci, t, kind = owner[keep], ci[keep], t[keep], kind[keep]
    order = np.lexsort((kind, ci, t, owner))
    return owner[order], ci[order], t[order], kind[order]


def _write_touchpoints(path: Path, seed: int, cust: _Customers, camp: _Campaigns,
                       touches: tuple[int, int], progress: _Progress
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Write touchpoints block by block; return each customer's first touch of the discount
    and of the app-release campaigns (``_NEVER`` when untouched)."""
    n = len(cust)
    first_discount = np.full(n, _NEVER, dtype=np.int64)
    first_app = np.full(n, _NEVER, dtype=np.int64)
    disc_idx = [camp.ids.index(c) for c in DISCOUNT_CAMPAIGN_IDS]
    app_idx = [camp.ids.index(c) for c in APP_RELEASE_CAMPAIGN_IDS]
    camp_ids = pa.array(camp.ids, type=pa.string())
    kinds = pa.array(TOUCH_KINDS, type=pa.string())
    with _parquet_writer(path, _TOUCHPOINT_SCHEMA, ("customer_id", "campaign_id", "kind")
                         ) as writer:
        for block, lo in enumerate(range(0, n, _TOUCH_BLOCK)):
            hi = min(n, lo + _TOUCH_BLOCK)
            rng = np.random.default_rng([seed, 2, block])
            owner, ci, t, kind = _touch_block(rng, lo, hi, cust, camp, touches)
            for idx, first in ((disc_idx, first_discount), (app_idx, first_app)):
                m = np.isin(ci, idx)
                np.minimum.at(first, owner[m], t[m])
            if owner.size:
                writer.write_table(pa.table([
                    cust.ids.take(pa.array(owner)), camp_ids.take(pa.array(ci)),
                    _timestamps(t), kinds.take(pa.array(kind)),
                ], schema=_TOUCHPOINT_SCHEMA))
            progress("touchpoints", hi, n)
    return first_discount, first_app


# =============================================================================================
# Tickets: who writes when about what (all scalar columns, for every ticket at once)
# =============================================================================================

_SOURCE_BASE, _SOURCE_DISCOUNT, _SOURCE_APP, _SOURCE_INCIDENT = range(4)


def _ticket_events(rng: np.random.Generator, n: int, cust: _Customers,
                   first_discount: np.ndarray, first_app: np.ndarray) -> dict[str, np.ndarray]:
    """created_at, customer, category and story source of every ticket, sorted by time."""
    old = np.flatnonzero(cust.created < _START - _DAY)
    if old.size == 0:
        old = np.arange(len(cust))
    disc_touched = np.flatnonzero(first_discount < _END - 2 * _DAY)
    app_touched = np.flatnonzero(first_app < _END - 2 * _DAY)
    n_disc = round(n * _DISCOUNT_SHARE) if disc_touched.size else 0
    n_app = round(n * _APP_SHARE) if app_touched.size else 0
    n_inc = round(n * _INCIDENT_SHARE)
    n_base = n - n_disc - n_app - n_inc
    if n_base < 0:  # tiny n: baseline only
        n_disc = n_app = n_inc = 0
        n_base = n

    # Baseline: weekly and daily cycle, slow growth; customers by propensity.
    n_days = (_END - _START) // _DAY
    days = np.arange(n_days)
    day_w = (np.asarray(_WEEKDAY_VOLUME)[_day_of_week(_START + days * _DAY)]
             * (1.0 + 0.25 * days / n_days) * rng.lognormal(0.0, 0.1, n_days))
    t_base = (_START + _pick(rng, day_w, n_base) * _DAY + _pick(rng, _HOUR_VOLUME, n_base) * _HOUR
              + rng.integers(0, _HOUR, n_base))
    c_base = _pick(rng, cust.weight, n_base)
    too_new = cust.created[c_base] > t_base - _HOUR
    c_base[too_new] = old[_pick(rng, cust.weight[old], int(too_new.sum()))]
    cat_base = _pick_rows(rng, _SEGMENT_CATEGORY, cust.segment[c_base])

    # Discount: coupon / billing / refund tickets a few days after the customer's touch.
    c_disc = disc_touched[rng.integers(0, max(disc_touched.size, 1), n_disc)]
    t_disc = first_discount[c_disc] + 1800 + rng.exponential(2.5 * _DAY, n_disc).astype(np.int64)
    cat_disc = _pick_categories(rng, _DISCOUNT_MIX, n_disc)

    # App release: crash tickets after the touch (not before the release itself).
    c_app = app_touched[rng.integers(0, max(app_touched.size, 1), n_app)]
    t_app = (np.maximum(first_app[c_app], _APP_LAUNCH) + _HOUR
             + rng.exponential(3.5 * _DAY, n_app).astype(np.int64))
    cat_app = _pick_categories(rng, _APP_MIX, n_app)

    # Incident: a burst early in the outage window, from established customers.
    c_inc = old[_pick(rng, cust.weight[old], n_inc)]
    t_inc = _INC_START + ((_INC_END - _INC_START) * rng.beta(1.3, 2.2, n_inc)).astype(np.int64)
    cat_inc = _pick_categories(rng, _INCIDENT_MIX, n_inc)

    t = np.concatenate([t_base, t_disc, t_app, t_inc]).astype(np.int64)
    c = np.concatenate([c_base, c_disc, c_app, c_inc]).astype(np.int64)
    cat = np.concatenate([cat_base, cat_disc, cat_app, cat_inc]).astype(np.int64)
    source = np.repeat(np.arange(4), [n_base, n_disc, n_app, n_inc])
    t = np.maximum(t, cust.created[c] + _HOUR)  # never before the customer existed
    late = t >= _END
    t[late] = _END - 1 - rng.integers(0, 12 * _HOUR, int(late.sum()))
    order = np.lexsort((source, c, t))
    return {"t": t[order], "cust": c[order], "cat": cat[order], "source": source[order]}


def _business_delay(rng: np.random.Generator, t: np.ndarray, p_weekend: float) -> np.ndarray:
    """When work on a ticket can start: evenings and nights mostly wait for 07:00, weekends
    mostly for Monday 08:00 (a skeleton crew answers the rest)."""
    day = t // _DAY
    hour = (t % _DAY) // _HOUR
    u = rng.random(t.size)
    jitter = rng.integers(0, _HOUR, t.size)
    out = np.where((hour >= 19) & (u < 0.6), (day + 1) * _DAY + 7 * _HOUR + jitter, t)
    out = np.where((hour < 7) & (u < 0.7), day * _DAY + 7 * _HOUR + jitter, out)
    day = out // _DAY
    dow = _day_of_week(out)
    monday = (day + 7 - dow) * _DAY + 8 * _HOUR + 2 * jitter
    weekend = (dow >= 5) & (rng.random(t.size) < p_weekend)
    return np.where(weekend, np.maximum(out, monday), out)


def _ticket_handling(rng: np.random.Generator, ev: dict[str, np.ndarray], cust: _Customers,
                     agents: _Agents) -> dict[str, np.ndarray]:
    """Language, channel, tone, status, response/resolution times, agent, CSAT and label."""
    n = ev["t"].size
    t, c, cat, source = ev["t"], ev["cust"], ev["cat"], ev["source"]
    seg = cust.segment[c]
    incident = source == _SOURCE_INCIDENT
    lang = np.where(rng.random(n) < 0.95, cust.lang[c], 0)
    channel = _pick_rows(rng, _SEGMENT_CHANNEL, seg)
    mood = (rng.standard_normal(n) + np.asarray(_SEGMENT_MOOD)[seg]
            + np.asarray(_CATEGORY_MOOD)[cat] - 1.4 * incident
            - 0.15 * (source == _SOURCE_DISCOUNT))
    tone = np.searchsorted(np.asarray(_TONE_CUTS), mood)

    # First response: lognormal minutes, faster for vip and chat/phone, slow in the outage.
    # During the outage (and half a day after) the queue is flooded: every ticket waits.
    flooded = (t >= _INC_START) & (t < _INC_END + 12 * _HOUR)
    start = _business_delay(rng, t, 0.75)
    frt_min = (rng.lognormal(np.log(_FIRST_RESPONSE_MIN), 1.3, n)
               * np.asarray(_SEGMENT_SPEED)[seg] * np.asarray(_CHANNEL_SPEED)[channel]
               * np.where(rng.random(n) < _P_OVERLOOKED, 15.0, 1.0))
    backlog = np.where(flooded, rng.exponential(5 * _HOUR, n), 0.0)
    first_resp = start + 60 + (frt_min * 60 + backlog).astype(np.int64)
    res_h = (rng.lognormal(0.0, 1.4, n) * np.asarray(_CATEGORY_RESOLVE_H, dtype=float)[cat]
             * np.where(seg == _VIP, 0.6, 1.0) * np.where(flooded, 1.5, 1.0)
             * np.where(rng.random(n) < _P_STALLED, 8.0, 1.0))
    resolved = _business_delay(rng, first_resp + (res_h * _HOUR).astype(np.int64), 0.6)
    responded = first_resp < _END
    done = resolved < _END
    young = _END - t < 2 * _DAY
    # Status codes index TICKET_STATUSES: new, open, pending, on_hold, solved, closed. Solved
    # tickets close automatically after 4 days.
    in_work = 1 + _pick_rows(rng, ((0.35, 0.4, 0.25), (0.6, 0.3, 0.1)), young.astype(np.int64))
    status = np.where(~responded, 0, np.where(~done, in_work, 0))
    status = np.where(done, np.where(resolved < _END - 4 * _DAY, 5, 4), status)
    first_resp = np.where(responded, first_resp, -1)
    resolved = np.where(done, resolved, -1)

    # Agent: usually the category's team (vip/enterprise often the vip desk), else any team.
    team = np.asarray([TEAMS.index(CATEGORY_TEAM[k]) for k in CATEGORIES])[cat]
    u = rng.random(n)
    vip_desk = TEAMS.index("vip_desk")
    team = np.where((seg == _VIP) & (u < 0.65) | (seg == _ENTERPRISE) & (u < 0.3), vip_desk, team)
    other = (u > 0.88) & (seg < _ENTERPRISE)
    team = np.where(other, rng.integers(0, vip_desk, n), team)
    agent = np.full(n, -1, dtype=np.int64)
    pick_u = rng.random(n)
    for tm in range(len(TEAMS)):
        for lg in range(len(LANGUAGES)):
            rows = np.flatnonzero(responded & (team == tm) & (lang == lg))
            if rows.size == 0:
                continue
            members = np.flatnonzero((agents.team == tm) & agents.speaks[:, lg])
            cap = agents.capacity[members].astype(np.float64)
            cum = np.cumsum(cap) / cap.sum()
            agent[rows] = members[np.minimum(np.searchsorted(cum, pick_u[rows], side="right"),
                                             members.size - 1)]

    # CSAT on some solved tickets: worse when angry or kept waiting.
    wait_days = np.where(done, (resolved - t) / _DAY, 0.0)
    score = (4.3 + np.asarray([-2.0, -1.1, 0.0, 0.4, 0.7])[tone]
             - 0.6 * np.log1p(wait_days) + rng.normal(0.0, 0.7, n))
    rated = done & (rng.random(n) < np.where(seg >= _ENTERPRISE, 0.5, _CSAT_SHARE))
    csat = np.where(rated, np.clip(np.rint(score), 1, 5), 0).astype(np.int64)

    # Training label on most solved/closed tickets, a few of them wrong.
    label = np.where(done & (rng.random(n) < _LABEL_SHARE), cat, -1)
    confused = np.asarray([CATEGORIES.index(_LABEL_CONFUSION[k]) for k in CATEGORIES])
    noisy = (label >= 0) & (rng.random(n) < _LABEL_NOISE)
    label = np.where(noisy, confused[np.maximum(label, 0)], label)
    return {"lang": lang, "channel": channel, "tone": tone, "status": status,
            "first_resp": first_resp, "resolved": resolved, "agent": agent, "csat": csat,
            "label": label}


# =============================================================================================
# Tickets: text plan (every random choice for the text, drawn up front) and rendering
# =============================================================================================


def _text_plan(rng: np.random.Generator, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
               cust: _Customers) -> dict[str, np.ndarray]:
    """Pool indices and slot values for every ticket (0 in a pool index = the part is absent)."""
    n = ev["t"].size
    t, cat, source, c = ev["t"], ev["cat"], ev["source"], ev["cust"]
    lang, channel, tone = hd["lang"], hd["channel"], hd["tone"]
    seg = cust.segment[c]
    sp, ip, dp, mp = (_POOLS[k] for k in ("subject", "issue", "detail", "misc"))
    nl, nc = len(LANGUAGES), len(CATEGORIES)

    def by_lang(pool: _Pool, key: str, u: np.ndarray) -> np.ndarray:
        off, size = pool.grid(lambda r, _c: (key, LANGUAGES[r]), nl, 1)
        return _choose(u, off[lang, 0], size[lang, 0])

    def by_lang_cat(pool: _Pool, u: np.ndarray, which: np.ndarray) -> np.ndarray:
        off, size = pool.grid(lambda r, k: ("cat", LANGUAGES[r], CATEGORIES[k]), nl, nc)
        return _choose(u, off[lang, which], size[lang, which])

    english = lang == 0
    ambiguous = english & (rng.random(n) < _P_AMBIGUOUS) & (source != _SOURCE_INCIDENT)
    vague = (rng.random(n) < _P_VAGUE) & ~ambiguous
    incident_text = (source == _SOURCE_INCIDENT) & english & (rng.random(n) < 0.5)

    # Issue sentence: category pool, or ambiguous / vague / outage wording.
    issue = by_lang_cat(ip, rng.random(n), cat)
    amb_off, amb_size = ip.grid(lambda _r, k: ("ambiguous", CATEGORIES[k]), 1, nc)
    issue = np.where(ambiguous, _choose(rng.random(n), amb_off[0, cat], amb_size[0, cat]), issue)
    issue = np.where(vague, by_lang(ip, "vague", rng.random(n)), issue)
    inc_off, inc_size = np.zeros(nc, dtype=np.int64), np.ones(nc, dtype=np.int64)
    for name in _INCIDENT_ISSUES:
        inc_off[CATEGORIES.index(name)], inc_size[CATEGORIES.index(name)] = ip.index[
            ("incident", name)]
    incident_text &= inc_off[cat] > 0
    issue = np.where(incident_text, _choose(rng.random(n), inc_off[cat], inc_size[cat]), issue)

    # Details: 0-3 sentences of the category (fewer on chat/social, none for vague tickets).
    n_det = np.minimum(_pick(rng, (0.3, 0.35, 0.25, 0.1), n),
                       np.where(np.isin(channel, (_CHAT, _SOCIAL)), 1, 3))
    n_det = np.where(vague | ambiguous & (rng.random(n) < 0.7), 0, n_det)
    d_off, d_size = dp.grid(lambda r, k: ("cat", LANGUAGES[r], CATEGORIES[k]), nl, nc)
    d_size_row = d_size[lang, cat]
    base = rng.integers(0, 10_000, n)
    details = []
    for j in range(3):
        idx = d_off[lang, cat] + (base + j) % d_size_row
        details.append(np.where((n_det > j) & (j < d_size_row), idx, 0))

    # A second, unrelated issue on some e-mail / web tickets.
    second_cat = (cat + rng.integers(1, nc, n)) % nc
    has_second = (rng.random(n) < _P_SECOND_ISSUE) & np.isin(channel, (_EMAIL, _WEB)) & ~vague
    second = np.where(has_second, by_lang_cat(ip, rng.random(n), second_cat), 0)
    also = np.where(has_second, by_lang(mp, "also", rng.random(n)), 0)

    # Subject.
    generic_subject = (rng.random(n) < _P_GENERIC_SUBJECT) | ((ambiguous | vague)
                                                              & (rng.random(n) < 0.7))
    subject = np.where(generic_subject, by_lang(sp, "generic", rng.random(n)),
                       by_lang_cat(sp, rng.random(n), cat))
    tool_subject = rng.random(n)
    for ch, key, p in ((_CHAT, "chat", 0.5), (_PHONE, "phone", 0.6), (_SOCIAL, "social", 0.5)):
        use = (channel == ch) & (tool_subject < p)
        subject = np.where(use, by_lang(sp, key, rng.random(n)), subject)

    # Tone sentence; vip/enterprise anger is often about waiting.
    tone_off, tone_size = mp.grid(lambda r, k: ("tone", LANGUAGES[r], str(k)), nl, 5)
    tone_idx = _choose(rng.random(n), tone_off[lang, tone], tone_size[lang, tone])
    waiting = (tone <= 1) & (rng.random(n) < np.where(seg >= _ENTERPRISE, 0.6, 0.15))
    tone_idx = np.where(waiting, by_lang(mp, "waiting", rng.random(n)), tone_idx)
    tone_idx = np.where((tone == 2) & (rng.random(n) < 0.5), 0, tone_idx)

    furious = tone == 0
    email = channel == _EMAIL
    quote = np.where(email & (rng.random(n) < _P_QUOTE), by_lang(mp, "quote", rng.random(n)), 0)
    nested = (quote > 0) & (rng.random(n) < 0.4)  # the reply also quotes the customer's mail
    n_context = np.where(email | (channel == _WEB), _pick(rng, (0.7, 0.2, 0.1), n), 0)
    ctx_off, ctx_size = mp.grid(lambda r, _c: ("context", LANGUAGES[r]), nl, 1)
    ctx_base = rng.integers(0, 1_000, n)
    contexts = [np.where(n_context > j, ctx_off[lang, 0] + (ctx_base + j) % ctx_size[lang, 0], 0)
                for j in range(2)]
    # Subject prefix: 1 "Re: " (replies), 2 "Fwd: ", 3 "URGENT: ", 4 all caps.
    prefix = np.where(quote > 0, np.where(rng.random(n) < 0.8, 1, 0), 0)
    prefix = np.where(email & (prefix == 0) & (rng.random(n) < 0.03), 2, prefix)
    u = rng.random(n)
    prefix = np.where(furious & (u < 0.25), 3, np.where(furious & (u > 0.8), 4, prefix))

    # PII sentences (cards mostly in money and fraud tickets).
    kinds = tuple(_P_PII)
    pii_off, pii_size = mp.grid(lambda r, k: ("pii", LANGUAGES[r], kinds[k]), nl, len(kinds))
    money = np.isin(cat, [CATEGORIES.index(k) for k in _PII_CARD_CATEGORIES])
    u = rng.random(n)
    pii_kind = np.full(n, -1)
    lo = np.zeros(n)
    for k, name in enumerate(kinds):
        p_row = _P_PII[name] * (np.where(money, 3.0, 0.5) if name == "card" else 1.0)
        pii_kind = np.where((pii_kind < 0) & (u >= lo) & (u < lo + p_row), k, pii_kind)
        lo = lo + p_row
    safe_kind = np.maximum(pii_kind, 0)
    pii = np.where(pii_kind >= 0,
                   _choose(rng.random(n), pii_off[lang, safe_kind], pii_size[lang, safe_kind]), 0)

    # Slots (values that vary per ticket).
    code = np.where((source == _SOURCE_DISCOUNT)
                    | ((t >= _DISCOUNT_START) & (t < _DISCOUNT_END + 5 * _DAY)
                       & (rng.random(n) < 0.7)),
                    0, rng.integers(1, len(_COUPON_CODES), n))
    version = np.where(t >= _APP_LAUNCH, len(_VERSIONS_BEFORE), 0) + rng.integers(0, 4, n)
    typo = rng.random(n) < _P_TYPO
    return {
        "subject": subject, "prefix": prefix, "greet": by_lang(mp, "greet", rng.random(n)),
        "chat_greet": np.where(rng.random(n) < 0.5, by_lang(mp, "chat_greet", rng.random(n)), 0),
        "issue": issue, "detail0": details[0], "detail1": details[1], "detail2": details[2],
        "second": second, "also": also, "pii": pii, "tone": tone_idx,
        "tone_first": rng.random(n) < 0.3, "sig": by_lang(mp, "sig", rng.random(n)),
        "quote": quote, "quote_back": rng.integers(2 * _HOUR, 5 * _DAY, n), "nested": nested,
        "context0": contexts[0], "context1": contexts[1],
        "caps": furious & (rng.random(n) < 0.35), "bang": furious & (rng.random(n) < 0.5),
        "lower": (channel == _CHAT) & (rng.random(n) < 0.35), "typo": typo,
        "typo_u": rng.random((n, 7), dtype=np.float32),
        "order": rng.integers(100_000, 9_999_999, n), "amount": np.round(
            rng.lognormal(np.log(60.0), 0.8, n), 2),
        "product": rng.integers(0, len(_PRODUCTS), n), "code": code,
        "device": rng.integers(0, len(_DEVICES), n), "version": version,
        "days": rng.integers(2, 22, n), "carrier": rng.integers(0, len(_CARRIERS), n),
        "date_back": rng.integers(1, 12, n), "last4": rng.integers(0, 10_000, n),
        "card": rng.integers(0, len(_CARDS), n),
    }


_SUBJECT_PREFIX = ("", "Re: ", "Fwd: ", "URGENT: ")
_PLAN_NAMES = np.array([p.capitalize() for p in PLANS], dtype=object)
_PRODUCT_ARR = np.array(_PRODUCTS, dtype=object)
_DEVICE_ARR = np.array(_DEVICES, dtype=object)
_VERSION_ARR = np.array(_VERSIONS_BEFORE + _VERSIONS_AFTER, dtype=object)
_CODE_ARR = np.array(_COUPON_CODES, dtype=object)
_CARRIER_ARR = np.array(_CARRIERS, dtype=object)
_CARD_ARR = np.array(_CARDS, dtype=object)
_COMPANY_ARR = np.array(("", *_COMPANIES), dtype=object)
_COMPANY_DOMAINS = tuple(re.sub(r"[^a-z0-9]+", "", c.lower().removesuffix(" gmbh")) + ".com"
                         for c in _COMPANIES)
_DATE_FIRST_DAY = _START // _DAY - 16
_DATE_DAYS = _END // _DAY - _DATE_FIRST_DAY + 1


def _date_pool() -> np.ndarray:
    """Every day of the ticket range (and a little before) as the customer would write it."""
    out = []
    for lang in LANGUAGES:
        for k in range(_DATE_DAYS):
            d = _EPOCH + timedelta(days=_DATE_FIRST_DAY + k)
            out.append(_DATE_FORMAT[lang].format(month=_MONTHS[lang][d.month - 1], d=d.day))
    return np.array(out, dtype=object)


_DATES = _date_pool()


def _quote_header(lang: str, secs: int, who: str, addr: str) -> str:
    d = _EPOCH + timedelta(seconds=secs)
    month = _MONTHS[lang][d.month - 1]
    return _QUOTE_HEADER[lang].format(
        wd=_WEEKDAY_ABBR[lang][d.weekday()], mon=month[:3] if lang == "en" else month,
        d=d.day, y=d.year, h=d.hour, h12=d.hour % 12 or 12, mi=d.minute,
        ampm="AM" if d.hour < 12 else "PM", who=who, addr=addr)


def _typo(text: str, u: Sequence[float]) -> str:
    """1-3 slips of the finger: swap two neighbours, drop or double a character."""
    for k in range(1 + int(u[0] * 3)):
        if len(text) < 8:
            break
        p = 1 + int(u[1 + k] * (len(text) - 3))
        op = int(u[4 + k] * 3)
        if op == 0:
            text = text[:p] + text[p + 1] + text[p] + text[p + 2:]
        elif op == 1:
            text = text[:p] + text[p + 1:]
        else:
            text = text[:p] + text[p] + text[p:]
    return text


def _slot_values(sl: slice, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
                 plan: dict[str, np.ndarray], cust: _Customers, need_email: np.ndarray
                 ) -> list[tuple[str, ...]]:
    """Per ticket of the chunk, the slot strings in _SLOTS order."""
    lang = hd["lang"][sl]
    c = ev["cust"][sl]
    m = lang.size
    euro = lang > 0
    orders = [f"#{o}" for o in plan["order"][sl].tolist()]
    amounts = [f"{a:.2f} €".replace(".", ",") if e else f"${a:.2f}"
               for a, e in zip(plan["amount"][sl].tolist(), euro.tolist(), strict=True)]
    days = [str(d) for d in plan["days"][sl].tolist()]
    date_idx = lang * _DATE_DAYS + (ev["t"][sl] // _DAY - plan["date_back"][sl]
                                    - _DATE_FIRST_DAY)
    first = _FIRST_POOL[cust.first[c]]
    last = _LAST_POOL[cust.last[c]]
    company = cust.company[c]
    last4 = [f"{x:04d}" for x in plan["last4"][sl].tolist()]
    phone_digits = cust.phone[c].tolist()
    phones = []
    for lg, p in zip(lang.tolist(), phone_digits, strict=True):
        if lg == 0:  # en, de, es, fr
            phones.append(f"+1 ({200 + p % 800}) 555-{p // 1000 % 10000:04d}")
        elif lg == 1:
            phones.append(f"+49 15{p % 10} {p // 10 % 10_000_000:07d}")
        elif lg == 2:
            phones.append(f"+34 6{p % 100:02d} {p // 100 % 1000:03d} {p // 100_000 % 1000:03d}")
        else:
            phones.append(f"+33 6 {p % 100:02d} {p // 100 % 100:02d} {p // 10_000 % 100:02d} "
                          f"{p // 1_000_000 % 100:02d}")
    emails = [""] * m
    dom = cust.domain[c]
    for i in np.flatnonzero(need_email).tolist():
        lg = LANGUAGES[lang[i]]
        f = first[i].lower().translate(_TRANSLIT)
        la = last[i].lower().translate(_TRANSLIT)
        if company[i] >= 0 and dom[i] % 2 == 0:
            emails[i] = f"{f}.{la}@{_COMPANY_DOMAINS[company[i]]}"
        else:
            domains = _EMAIL_DOMAINS[lg]
            local = f"{f}.{la}" if dom[i] % 3 else f"{f[0]}{la}{dom[i] % 100}"
            emails[i] = f"{local}@{domains[dom[i] % len(domains)]}"
    return list(zip(
        orders, amounts, _PRODUCT_ARR[plan["product"][sl]].tolist(),
        _CODE_ARR[plan["code"][sl]].tolist(), _DEVICE_ARR[plan["device"][sl]].tolist(),
        _VERSION_ARR[plan["version"][sl]].tolist(), _PLAN_NAMES[cust.plan[c]].tolist(), days,
        _CARRIER_ARR[plan["carrier"][sl]].tolist(), _DATES[date_idx].tolist(), first.tolist(),
        last4, last.tolist(), _COMPANY_ARR[company + 1].tolist(), emails, phones,
        _CARD_ARR[plan["card"][sl]].tolist(), strict=True))


def _pool_members(pool: _Pool, keys: Sequence[tuple[str, ...]]) -> np.ndarray:
    """Every pool index that belongs to one of ``keys``."""
    return np.array(sorted(i for key in keys
                           for i in range(pool.index[key][0], sum(pool.index[key]))))


_EMAIL_PII = _pool_members(_POOLS["misc"], [("pii", lang, "email") for lang in LANGUAGES])


def _render(lo: int, hi: int, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
            plan: dict[str, np.ndarray], cust: _Customers) -> tuple[list[str], list[str]]:
    """Subjects and bodies of tickets lo..hi-1."""
    sl = slice(lo, hi)
    sp, ip, dp, mp = (_POOLS[k].items for k in ("subject", "issue", "detail", "misc"))
    need_email = np.isin(plan["pii"][sl], _EMAIL_PII) | plan["nested"][sl]
    args = _slot_values(sl, ev, hd, plan, cust, need_email)
    subject_t = sp[plan["subject"][sl]].tolist()
    issue_t = ip[plan["issue"][sl]].tolist()
    second_t = ip[plan["second"][sl]].tolist()
    det = [dp[plan[f"detail{j}"][sl]].tolist() for j in range(3)]
    greet_t = mp[plan["greet"][sl]].tolist()
    chat_greet = mp[plan["chat_greet"][sl]].tolist()
    also = mp[plan["also"][sl]].tolist()
    pii_t = mp[plan["pii"][sl]].tolist()
    tone_t = mp[plan["tone"][sl]].tolist()
    sig_t = mp[plan["sig"][sl]].tolist()
    quote = mp[plan["quote"][sl]].tolist()
    nested = plan["nested"][sl].tolist()
    context = [" ".join(x for x in pair if x) for pair in zip(
        mp[plan["context0"][sl]].tolist(), mp[plan["context1"][sl]].tolist(), strict=True)]
    prefix = plan["prefix"][sl].tolist()
    flags = zip(plan["caps"][sl].tolist(), plan["bang"][sl].tolist(), plan["lower"][sl].tolist(),
                plan["typo"][sl].tolist(), plan["tone_first"][sl].tolist(), strict=True)
    typo_u = plan["typo_u"][sl]
    channel = hd["channel"][sl].tolist()
    lang = hd["lang"][sl].tolist()
    quoted_at = (ev["t"][sl] - plan["quote_back"][sl]).tolist()
    subjects: list[str] = []
    bodies: list[str] = []
    for i, (caps, bang, lower, typo, tone_first) in enumerate(flags):
        a = args[i]
        subject = subject_t[i].format(*a)
        p = prefix[i]
        if p:
            subject = subject.upper() if p == 4 else _SUBJECT_PREFIX[p] + subject
        subjects.append(subject)

        text = issue_t[i].format(*a)
        original = text
        if det[0][i]:
            text += " " + det[0][i].format(*a)
        if typo:
            text = _typo(text, typo_u[i].tolist())
        if caps:
            text = text.upper()
        if bang:
            text = text.rstrip(".?! ") + "!!!"
        if lower:
            text = text.lower()
        extra = " ".join(d[i].format(*a) for d in det[1:] if d[i])
        second = also[i] + second_t[i].format(*a) if second_t[i] else ""
        pii = pii_t[i].format(*a) if pii_t[i] else ""
        tone = tone_t[i].format(*a) if tone_t[i] else ""
        ctx = context[i].format(*a) if context[i] else ""
        ch = channel[i]
        lg = LANGUAGES[lang[i]]
        if ch == _EMAIL:
            # Greeting, paragraphs, signature, maybe the quoted thread.
            paras = [greet_t[i].format(*a)] if greet_t[i] else []
            if ctx:
                paras.append(ctx)
            paras.append(f"{tone} {text}" if tone and tone_first else text)
            paras.extend(x for x in (extra, second, pii) if x)
            if tone and not tone_first:
                paras.append(tone)
            paras.append(sig_t[i].format(*a).rstrip())
            body = "\n\n".join(paras)
            if quote[i]:
                body += ("\n\n" + _quote_header(lg, quoted_at[i], *_SUPPORT_SENDER) + "\n"
                         + quote[i])
                if nested[i]:  # the customer's first mail, quoted inside the reply
                    who = f"{a[_SLOT_INDEX['name']]} {a[_SLOT_INDEX['last']]}"
                    header = _quote_header(lg, quoted_at[i] - 3 * _HOUR, who,
                                           a[_SLOT_INDEX["email"]])
                    body += f"\n>\n> {header}\n>> {original}"
        elif ch == _CHAT:  # one line
            body = " ".join(x for x in (chat_greet[i], text, pii, tone) if x)
        elif ch == _PHONE:  # the agent's note of what the caller said
            body = _PHONE_PREFIX[lg] + " ".join(x for x in (text, extra, pii, tone) if x)
        elif ch == _WEB:  # a form: one or two paragraphs
            head = " ".join(x for x in (ctx, text, extra) if x)
            tail = " ".join(x for x in (second, pii, tone) if x)
            body = f"{head}\n\n{tail}" if tail and extra else f"{head} {tail}".rstrip()
        else:  # social: short and public
            body = _SOCIAL_HANDLE + " ".join(x for x in (text, tone) if x)
        bodies.append(body)
    return subjects, bodies


_TICKET_SCHEMA = _arrow_schema(TICKETS)


def _write_tickets(path: Path, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
                   plan: dict[str, np.ndarray], cust: _Customers, agents: _Agents,
                   chunk_size: int, progress: _Progress) -> None:
    n = ev["t"].size
    width = max(7, len(str(n)))
    channels = pa.array(TICKET_CHANNELS, type=pa.string())
    statuses = pa.array(TICKET_STATUSES, type=pa.string())
    categories = pa.array(CATEGORIES, type=pa.string())
    languages = pa.array(LANGUAGES, type=pa.string())
    dictionary = ("customer_id", "channel", "status", "agent_id", "category", "language")
    with _parquet_writer(path, _TICKET_SCHEMA, dictionary) as writer:
        for lo in range(0, n, chunk_size):
            hi = min(n, lo + chunk_size)
            sl = slice(lo, hi)
            subjects, bodies = _render(lo, hi, ev, hd, plan, cust)
            agent = hd["agent"][sl]
            label = hd["label"][sl]
            csat = hd["csat"][sl]
            writer.write_table(pa.table([
                pa.array([f"TK{i:0{width}d}" for i in range(lo + 1, hi + 1)], type=pa.string()),
                _timestamps(ev["t"][sl]),
                cust.ids.take(pa.array(ev["cust"][sl])),
                channels.take(pa.array(hd["channel"][sl])),
                pa.array(subjects, type=pa.string()),
                pa.array(bodies, type=pa.string()),
                statuses.take(pa.array(hd["status"][sl])),
                _timestamps(hd["first_resp"][sl], hd["first_resp"][sl] < 0),
                _timestamps(hd["resolved"][sl], hd["resolved"][sl] < 0),
                agents.ids.take(pa.array(agent, mask=agent < 0)),
                pa.array(csat.astype(np.int32), type=pa.int32(), mask=csat == 0),
                categories.take(pa.array(label, mask=label < 0)),
                languages.take(pa.array(hd["lang"][sl])),
            ], schema=_TICKET_SCHEMA))
            progress("tickets", hi, n)


# =============================================================================================
# Public entry point
# =============================================================================================


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"demo: {name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"demo: {name} must be at least {minimum}, got {value}")
    return int(value)


def generate(
    out_dir: str | Path,
    tickets: int = DEMO_TICKETS,
    seed: int = DEMO_SEED,
    customers: int | None = None,
    progress: _Progress | None = None,
    *,
    touches_per_customer: tuple[int, int] = (1, 8),
    chunk_size: int = 100_000,
) -> dict[str, Path]:
    """Write the demo world to ``out_dir``; return ``{table: path}``.

    customers.csv, campaigns.csv and agents.csv are CSV (timestamps 'YYYY-MM-DD HH:MM:SS');
    tickets.parquet and touchpoints.parquet are zstd Parquet with real timestamp columns.
    ``customers`` defaults to 0.32 per ticket (at least 200). A customer with a campaign journey
    gets between ``touches_per_customer`` touches (about 65% of customers have one).
    ``chunk_size`` is the number of tickets rendered and written at a time; it changes the
    Parquet row groups, not the data. ``progress(step, done, total)`` is called as work is done.
    """
    n = _check_int("tickets", tickets, 1)
    seed = _check_int("seed", seed, 0)
    n_cust = (max(200, round(n * 0.32)) if customers is None
              else _check_int("customers", customers, 1))
    chunk = _check_int("chunk_size", chunk_size, 1)
    if not isinstance(touches_per_customer, Sequence) or len(touches_per_customer) != 2:
        raise ConfigError("demo: touches_per_customer must be a (min, max) pair, got "
                          f"{touches_per_customer!r}")
    t_lo = _check_int("touches_per_customer min", touches_per_customer[0], 1)
    t_hi = _check_int("touches_per_customer max", touches_per_customer[1], t_lo)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"demo: {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    report: _Progress = progress if progress is not None else (lambda _s, _d, _t: None)
    paths = {
        "customers": out / "customers.csv", "campaigns": out / "campaigns.csv",
        "agents": out / "agents.csv", "touchpoints": out / "touchpoints.parquet",
        "tickets": out / "tickets.parquet",
    }

    cust = _make_customers(np.random.default_rng([seed, 1]), n_cust)
    _write_customers(paths["customers"], cust)
    report("customers", n_cust, n_cust)
    camp = _make_campaigns(np.random.default_rng([seed, 3]))
    _write_campaigns(paths["campaigns"], camp)
    report("campaigns", len(camp.ids), len(camp.ids))
    agents = _make_agents(np.random.default_rng([seed, 4]))
    _write_csv(paths["agents"], AGENTS, agents.rows)
    report("agents", len(agents.team), len(agents.team))
    first_discount, first_app = _write_touchpoints(paths["touchpoints"], seed, cust, camp,
                                                   (t_lo, t_hi), report)
    ev = _ticket_events(np.random.default_rng([seed, 5]), n, cust, first_discount, first_app)
    hd = _ticket_handling(np.random.default_rng([seed, 6]), ev, cust, agents)
    plan = _text_plan(np.random.default_rng([seed, 7]), ev, hd, cust)
    _write_tickets(paths["tickets"], ev, hd, plan, cust, agents, chunk, report)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m triage_core.demo OUT_DIR [--tickets N] [--seed S]`` (regenerates sample_data)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--tickets", type=int, default=DEMO_TICKETS)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--customers", type=int, default=None)
    args = parser.parse_args(argv)
    for table, path in generate(args.out_dir, args.tickets, args.seed, args.customers).items():
        print(f"{table}: {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
