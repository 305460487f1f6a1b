"""The default stages and qualification reasons (seeds 003 and 004), in English and French:
seeded by migration 0005, and what `stages.definitions()` falls back to on an empty table
(a test database flushed between tests)."""

from __future__ import annotations

# slug, English name, French name, kind, handoff, closed, English, French definition
STAGES = [
    ("subscriber", "Subscriber", "Abonné", "funnel", False, False,
     "Subscribed to content (a newsletter, a blog) and nothing more yet: known, not yet a "
     "lead.",
     "Abonné à du contenu (une newsletter, un blog) et rien de plus pour l'instant : connu, "
     "pas encore un lead."),
    ("lead", "Lead", "Lead", "funnel", False, False,
     "Showed interest (an inquiry): captured, not yet qualified.",
     "A manifesté un intérêt (une demande) : capté, pas encore qualifié."),
    ("mql", "MQL", "MQL", "funnel", True, False,
     "Marketing qualified: in the target and scored at or above the MQL threshold; "
     "marketing hands it to sales.",
     "Qualifié par le marketing : dans la cible, avec un score au moins égal au seuil MQL ; "
     "le marketing le transmet aux ventes."),
    ("hmql", "HMQL", "HMQL", "funnel", False, False,
     "Highly marketing qualified: an MQL who consumed content close to buying (a pricing "
     "page, a demo request, an implementation guide).",
     "Lead très qualifié par le marketing : un MQL qui a consulté du contenu proche de "
     "l'achat (une page de tarifs, une demande de démo, un guide de mise en place)."),
    ("sal", "Sales accepted", "Accepté par les ventes", "funnel", False, False,
     "Sales accepted the hand-off and will contact the lead.",
     "Les ventes ont accepté le transfert et vont contacter le lead."),
    ("sql", "SQL", "SQL", "funnel", False, False,
     "Sales confirmed the interest (BANT met): ready for a sales process (contact request, "
     "demo, meeting).",
     "Les ventes ont confirmé l'intérêt (critères BANT remplis) : prêt pour un processus de "
     "vente (demande de contact, démo, rendez-vous)."),
    ("opportunity", "Opportunity", "Opportunité", "funnel", False, False,
     "A deal is being worked.", "Une affaire est en cours."),
    ("customer", "Customer", "Client", "funnel", False, True,
     "Bought: a customer.", "A acheté : c'est un client."),
    ("lost", "Lost", "Perdu", "funnel", False, True,
     "The deal was lost.", "L'affaire a été perdue."),
    ("nurture", "Nurture", "Nurturing", "detour", False, False,
     "Not ready to buy yet (not a bad lead): marketing keeps nurturing it.",
     "Pas encore prêt à acheter (ce n'est pas un mauvais lead) : le marketing continue de "
     "le faire mûrir."),
    ("disqualified", "Disqualified", "Disqualifié", "detour", False, True,
     "Irrelevant: no budget, product not adapted, or contact data incorrect. A reason is "
     "recorded.",
     "Non pertinent : pas de budget, produit non adapté ou coordonnées incorrectes. Un motif "
     "est enregistré."),
]

MARKETING_STAGES = ("subscriber", "lead", "mql", "hmql", "nurture", "disqualified")

# code, English, French, asks for a note
REASONS = [
    ("no_budget", "No budget within 12 months", "Pas de budget dans les 12 mois", False),
    ("product_not_adapted", "Product not adapted to their needs",
     "Produit non adapté à leurs besoins", False),
    ("contact_data_incorrect", "Contact data incorrect", "Coordonnées incorrectes", False),
    ("other", "Other", "Autre", True),
]


def stage_rows() -> list[dict]:
    return [dict(slug=slug, name_en=en, name_fr=fr, kind=kind, is_handoff=handoff,
                 is_closed=closed, definition_en=den, definition_fr=dfr,
                 position=(i + 1) * 10,
                 owned_by="marketing" if slug in MARKETING_STAGES else "sales")
            for i, (slug, en, fr, kind, handoff, closed, den, dfr) in enumerate(STAGES)]


def reason_rows() -> list[dict]:
    return [dict(code=code, label_en=en, label_fr=fr, needs_note=note, position=(i + 1) * 10)
            for i, (code, en, fr, note) in enumerate(REASONS)]
