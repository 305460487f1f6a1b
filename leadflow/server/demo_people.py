"""The people of the demo: names, companies, job titles and phone numbers that fit their
country, as a real company's lead list has them, with a few real-world problems.

`person(rng, country)` returns one lead's profile. About 4 leads in 100 carry a problem
that data quality flags: a disposable address, a mistyped phone, a country nobody knows.
A quarter give no phone at all (newsletter sign-ups rarely do), which is not a problem.
"""

from __future__ import annotations

import random
import unicodedata

import phonenumbers

# Which names and titles a country's leads have.
LANGUAGE = {"FR": "fr", "BE": "fr", "CH": "fr", "LU": "fr", "MA": "fr", "DE": "de",
            "AT": "de", "NL": "nl", "GB": "en", "US": "en", "CA": "en", "ES": "es",
            "IT": "it", "SE": "sv"}
# Some Belgians and Swiss speak Dutch or German, some Canadians French.
MIXED = {"BE": ["fr", "nl"], "CH": ["fr", "de", "it"], "CA": ["en", "fr"]}

FIRST_NAMES = {
    "fr": ["Camille", "Léa", "Thomas", "Chloé", "Nicolas", "Inès", "Hugo", "Manon", "Julien",
           "Mathilde", "Antoine", "Pauline", "Maxime", "Céline", "Romain", "Élodie", "Arthur",
           "Sarah", "Mickaël", "Nadia", "Karim", "Amandine"],
    "de": ["Lukas", "Anna", "Jonas", "Lena", "Felix", "Laura", "Maximilian", "Katharina",
           "Tobias", "Julia", "Stefan", "Sabine", "Jan", "Miriam"],
    "nl": ["Pieter", "Sanne", "Daan", "Lotte", "Thijs", "Eva", "Bram", "Femke", "Joris",
           "Anouk"],
    "en": ["Oliver", "Amelia", "James", "Olivia", "Noah", "Emily", "Liam", "Charlotte",
           "Michael", "Jessica", "Daniel", "Hannah", "Ryan", "Megan", "Priya", "Marcus"],
    "es": ["Sofía", "Mateo", "Lucía", "Javier", "Carmen", "Alejandro", "Marta", "Pablo"],
    "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Elena",
           "Matteo"],
    "sv": ["Astrid", "Erik", "Elsa", "Johan", "Maja", "Anders", "Ingrid", "Oskar"],
}
LAST_NAMES = {
    "fr": ["Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Lefebvre",
           "Michel", "Roux", "Fontaine", "Girard", "Dupont", "Lambert", "Bonnet", "Mercier",
           "Benali", "El Amrani", "Rousseau", "Chevalier", "Gauthier", "Perrin"],
    "de": ["Müller", "Schmidt", "Fischer", "Weber", "Keller", "Wagner", "Becker", "Hoffmann",
           "Schäfer", "Koch", "Bauer", "Richter"],
    "nl": ["de Vries", "Janssens", "Peeters", "Jansen", "van Dijk", "Bakker", "Visser",
           "Maes", "Smit", "de Jong"],
    "en": ["Smith", "Brown", "Taylor", "Wilson", "Johnson", "Miller", "Davies", "Evans",
           "Walker", "Patel", "Thompson", "Clarke", "Anderson", "Robinson"],
    "es": ["García", "López", "Martínez", "Sánchez", "Fernández", "Romero", "Navarro",
           "Torres"],
    "it": ["Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno"],
    "sv": ["Lindqvist", "Nilsson", "Andersson", "Johansson", "Karlsson", "Berg", "Lund"],
}
COMPANIES = {
    "fr": ["Atelier Lumière", "Brasserie du Port", "Maison Verte", "Crédit Horizon",
           "Papeterie Martin", "Transports Rivière", "Groupe Solveo", "Les Jardins d'Éole",
           "Cabinet Lemaire Avocats", "Clinique des Alpes", "Editions Boréal",
           "Hôtels Azur", "Optique Vision Plus"],
    "de": ["Nordwind Logistik", "Helvetia Robotics", "Alpenblick Versicherung",
           "Brückner Maschinenbau", "Sonnenfeld Energie", "Kraus Medizintechnik",
           "Lindenhof Hotels"],
    "nl": ["Polder Data", "Van Houten Bouw", "Zeeland Logistics", "Tulp Software",
           "Brabant Foods"],
    "en": ["Vertex Analytics", "BlueOak Insurance", "Pixel Forge", "Orbit Software",
           "Riverstone Legal", "Skyline Media", "Westbridge Consulting", "Castle Hotels",
           "Green Leaf Foods", "Nova Health", "Iron Bridge Capital", "Lumen Education"],
    "es": ["Soluciones Iberia", "Grupo Mediterráneo", "Viñedos del Sur", "Nexo Digital"],
    "it": ["Officine Lombarde", "Studio Bianchi Design", "Tessuti Toscani", "Ferro Moda"],
    "sv": ["Fjord Outdoor", "Nordljus Energi", "Skärgård Media", "Vasa Bygg"],
}
# The last title of each list is the student that marketing weeds out (STUDENT_SHARE).
TITLES = {
    "fr": ["Directrice marketing", "Responsable marketing digital", "Chargé de marketing",
           "Directeur commercial", "Responsable acquisition", "Gérant", "DSI",
           "Chef de projet web", "Responsable communication", "Étudiant"],
    "de": ["Marketingleiterin", "Leiter Vertrieb", "Geschäftsführer", "Online-Marketing-"
           "Manager", "IT-Leiter", "Teamleiterin Kommunikation", "Student"],
    "nl": ["Marketingmanager", "Directeur", "Hoofd Sales", "Online marketeer", "Student"],
    "en": ["Marketing Director", "Head of Growth", "CMO", "Marketing Manager",
           "Demand Generation Manager", "Sales Operations Manager", "CEO", "Founder",
           "VP Marketing", "IT Manager", "Student"],
    "es": ["Directora de marketing", "Responsable de ventas", "Gerente", "Estudiante"],
    "it": ["Responsabile marketing", "Direttore commerciale", "Amministratore delegato",
           "Studente"],
    "sv": ["Marknadschef", "Försäljningschef", "VD", "Student"],
}
STUDENT_TITLES = {titles[-1] for titles in TITLES.values()}
CITIES = {"FR": ["Paris", "Lyon", "Nantes", "Lille", "Bordeaux", "Toulouse", "Rennes"],
          "BE": ["Bruxelles", "Liège", "Anvers", "Gand"], "CH": ["Genève", "Lausanne", "Zürich"],
          "DE": ["Berlin", "München", "Hamburg", "Köln"], "LU": ["Luxembourg"],
          "NL": ["Amsterdam", "Utrecht", "Rotterdam"], "GB": ["London", "Leeds", "Bristol"],
          "US": ["Boston", "Austin", "Chicago", "Denver"], "ES": ["Madrid", "Barcelona"],
          "IT": ["Milano", "Torino", "Bologna"], "CA": ["Montréal", "Toronto"],
          "MA": ["Casablanca", "Rabat"], "SE": ["Stockholm", "Göteborg"],
          "AT": ["Wien", "Graz"]}
DISPOSABLE_DOMAINS = ["yopmail.com", "mailinator.com"]
UNKNOWN_COUNTRIES = ["Atlantide", "N/A", "Europe"]
# Shares of leads with each problem, and with no phone (which is no problem).
DISPOSABLE_SHARE, TYPO_PHONE_SHARE, UNKNOWN_COUNTRY_SHARE, NO_PHONE_SHARE = (
    0.015, 0.015, 0.01, 0.25)
STUDENT_SHARE = 0.06


def slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_.lower()).split())


def valid_phone(rng: random.Random, country: str) -> str:
    """A valid mobile number of `country`, written as people type it (international form):
    the country's example number with its last digits drawn at random."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, country  # phonenumbers has one for every country we use
    national = str(example.national_number)
    for _ in range(50):
        digits = national[:-5] + "".join(str(rng.randint(0, 9)) for _ in range(5))
        number = phonenumbers.parse("+" + str(example.country_code) + digits)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mistyped_phone(rng: random.Random, country: str) -> str:
    """A number with digits missing, as typed in a hurry: invalid for its country."""
    for _ in range(50):
        typed = valid_phone(rng, country)
        cut = rng.randint(len(typed) - 6, len(typed) - 3)
        typed = typed[:cut] + typed[cut + 3:]
        if not phonenumbers.is_valid_number(phonenumbers.parse(typed, country)):
            return typed
    return "06 12 34"


def person(rng: random.Random, country: str) -> dict[str, str]:
    """One lead's profile: name, company, title, city, phone and country; the email is the
    caller's (it keeps addresses unique)."""
    language = rng.choice(MIXED.get(country, [LANGUAGE[country]]))
    profile = {
        "first_name": rng.choice(FIRST_NAMES[language]),
        "last_name": rng.choice(LAST_NAMES[language]),
        "company_name": rng.choice(COMPANIES[language]),
        "title": (TITLES[language][-1] if rng.random() < STUDENT_SHARE
                  else rng.choice(TITLES[language][:-1])),
        "city": rng.choice(CITIES[country]), "country": country, "phone": "",
    }
    roll = rng.random()
    if roll < TYPO_PHONE_SHARE:
        profile["phone"] = mistyped_phone(rng, country)
    elif roll < TYPO_PHONE_SHARE + UNKNOWN_COUNTRY_SHARE:
        profile["phone"] = valid_phone(rng, country)
        profile["country"] = rng.choice(UNKNOWN_COUNTRIES)
    elif rng.random() >= NO_PHONE_SHARE:
        profile["phone"] = valid_phone(rng, country)
    return profile


def email_domain(rng: random.Random, company: str) -> str:
    """The company's domain (invented, under .example), or now and then a throwaway one."""
    if rng.random() < DISPOSABLE_SHARE:
        return rng.choice(DISPOSABLE_DOMAINS)
    return f"{slug(company)}.example"
