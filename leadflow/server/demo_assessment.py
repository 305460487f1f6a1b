"""The demo's interactive assessment (seed 003's "Smart Audit"), at /f/smart-audit/: four
weighted questions, two of them setting BANT fields, and three result bands written in
English and French. Created once with the demo's other forms."""

from __future__ import annotations

from leadflow.capture.models import Form, FormField

SLUG = "smart-audit"


def _answer(value: str, points: int, en: str, fr: str, **sets: object) -> dict:
    return {"value": value, "points": points, "labels": {"en": en, "fr": fr}, "sets": sets}


QUESTIONS = [
    ("has_budget", "Do you have a budget for marketing automation this year?",
     "Avez-vous un budget pour l'automatisation marketing cette année ?",
     [_answer("yes", 25, "Yes", "Oui", budget=True), _answer("no", 0, "No", "Non", budget=False)]),
    ("decides", "Do you decide on the purchase?", "Décidez-vous de l'achat ?",
     [_answer("yes", 15, "Yes, I decide", "Oui, je décide", authority=True),
      _answer("no", 5, "Someone else decides", "Quelqu'un d'autre décide", authority=False)]),
    ("lead_definition", "Have marketing and sales written down what a lead is?",
     "Le marketing et les ventes ont-ils écrit ce qu'est un lead ?",
     [_answer("yes", 30, "Yes, and both teams use it", "Oui, et les deux équipes l'utilisent"),
      _answer("draft", 15, "A draft exists", "Il existe un brouillon"),
      _answer("no", 0, "Not yet", "Pas encore", need=True)]),
    ("when", "When would you like to be up and running?", "Quand souhaitez-vous démarrer ?",
     [_answer("soon", 30, "Within 12 months", "Dans les 12 mois", timing="within_12_months"),
      _answer("later", 5, "Later", "Plus tard", timing="later")]),
]

BANDS = [
    {"key": "getting-started", "min": 0, "texts": {
        "en": {"title": "Getting started", "recommendations": [
            "Write your definition of a lead with sales, in one page.",
            "Score the three actions that say most about buying intent."]},
        "fr": {"title": "Premiers pas", "recommendations": [
            "Écrivez avec les ventes votre définition d'un lead, en une page.",
            "Notez les trois actions qui disent le plus l'intention d'achat."]}}},
    {"key": "on-the-way", "min": 40, "texts": {
        "en": {"title": "On the way", "recommendations": [
            "Add a nurturing campaign for leads that are not ready yet.",
            "Agree on a hand-off delay with sales and measure it."]},
        "fr": {"title": "En bonne voie", "recommendations": [
            "Ajoutez une campagne de maturation pour les leads pas encore prêts.",
            "Convenez d'un délai de passage aux ventes et mesurez-le."]}}},
    {"key": "advanced", "min": 80, "texts": {
        "en": {"title": "Advanced", "recommendations": [
            "Review rejected leads with sales every month.",
            "Let inactivity lower the score so that sales see who is hot now."]},
        "fr": {"title": "Avancé", "recommendations": [
            "Passez en revue chaque mois avec les ventes les leads rejetés.",
            "Laissez l'inactivité baisser le score : les ventes voient qui est chaud."]}}},
]


def smart_audit() -> Form:
    """The Smart Audit form, created with its questions the first time."""
    form, created = Form.objects.get_or_create(slug=SLUG, defaults={
        "name": "Smart Audit", "title": "Smart Audit: how mature is your lead management?",
        "intro": "Four questions, one minute: your maturity score and what to do next.",
        "kind": Form.Kind.ASSESSMENT, "bands": BANDS, "source": "smart-audit",
        "thank_you": "Your answers are saved; a specialist may get in touch.",
        "translations": {"fr": {
            "title": "Smart Audit : où en est votre gestion des leads ?",
            "intro": "Quatre questions, une minute : votre score de maturité et la suite.",
            "thank_you": "Vos réponses sont enregistrées ; un spécialiste pourra vous "
                         "contacter."}},
    })
    if created:
        fields = [FormField(form=form, key="email", lead_field="email", type="email",
                            required=True, position=1,
                            labels={"en": "Work email", "fr": "E-mail professionnel"})]
        fields += [FormField(form=form, key=key, type=FormField.Type.SELECT, required=True,
                             position=i, labels={"en": en, "fr": fr}, answers=answers)
                   for i, (key, en, fr, answers) in enumerate(QUESTIONS, start=2)]
        FormField.objects.bulk_create(fields)
    return form
