"""The column names a header is recognised by, in English and French (docs/imports.md
has the same table: keep both in step), and the folding they are compared after."""

from __future__ import annotations

import unicodedata

CREATED_AT, NOTES = "created_at", "notes"  # import targets that are not lead fields
# Used without a mapping file and as the mapping screen's first guess; matched after
# fold(): case, accents, spaces and punctuation do not matter.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("Email", "E-mail", "Mail", "Courriel", "Adresse e-mail", "Adresse mail",
              "Adresse électronique", "Email address", "E-mail address"),
    "first_name": ("First name", "Firstname", "Given name", "Forename", "Prénom"),
    "last_name": ("Last name", "Lastname", "Surname", "Family name", "Nom",
                  "Nom de famille"),
    "company_name": ("Company", "Company name", "Organisation", "Organization", "Account",
                     "Account name", "Société", "Entreprise", "Raison sociale"),
    "phone": ("Phone", "Phone number", "Telephone", "Mobile", "Mobile phone", "Cell",
              "Téléphone", "Tél", "Portable", "Numéro de téléphone", "GSM"),
    "country": ("Country", "Pays"),
    "city": ("City", "Town", "Ville"),
    "title": ("Title", "Job title", "Position", "Poste", "Fonction", "Intitulé de poste"),
    "language": ("Language", "Langue"),
    "external_id": ("ID", "External ID", "Prospect ID", "Lead ID", "Identifiant"),
    "source": ("Source", "Lead source", "UTM source", "Origine"),
    "medium": ("Medium", "UTM medium"),
    "campaign": ("Campaign", "UTM campaign", "Campagne"),
    # BANT (seed 003); the values are read by leads.bant.bant_value (yes/non, ...).
    "budget": ("Budget", "Has budget", "Budget approved", "Budget validé", "Budget OK"),
    "authority": ("Authority", "Decision maker", "Decision-maker", "Autorité", "Décideur",
                  "Décisionnaire", "Pouvoir de décision"),
    "need": ("Need", "Has need", "Besoin", "Besoin identifié"),
    "timing": ("Timing", "Timeframe", "Time frame", "Purchase timing", "Timeline",
               "Échéance", "Délai", "Horizon d'achat", "Calendrier"),
    "do_not_email": ("Do not email",),
    "do_not_call": ("Do not call",),
    "outcome": ("Converted",),
    "stage": ("Stage", "Lead stage"),
    "owner": ("Owner", "Lead owner", "Propriétaire", "Responsable"),
    CREATED_AT: ("Created", "Created at", "Created on", "Creation date", "Date created",
                 "Date de création", "Créé le", "Date d'ajout"),
    NOTES: ("Notes", "Note", "Comments", "Comment", "Remarks", "Commentaires",
            "Commentaire", "Remarques", "Remarque"),
}


def fold(name: str) -> str:
    """A header as compared with SYNONYMS: no case, accents, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum())
