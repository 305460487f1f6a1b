"""The email hub (/emails/, the menu's one "Email" link): the email areas a person may
open, each asked of the same permission its own page checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.permissions import VIEW, may, may_manage_email
from leadflow.emails import caps, senders, suppression_list, topics

if TYPE_CHECKING:
    from leadflow.accounts.models import User


@dataclass(frozen=True)
class Area:
    key: str
    url_name: str
    title: Promise
    description: Promise
    may_open: Callable[[User], bool]


def _anyone(user: User) -> bool:
    return bool(user.is_active)


def _templates(user: User) -> bool:
    return may(user, VIEW, "templates")  # as views_templates asks


def _sends(user: User) -> bool:
    # lists.broadcasts.may_view: the lists app stands above emails.
    return may(user, VIEW, "campaigns")


AREAS = (
    Area("templates", "emails:templates", _("Templates"),
         _("The emails you send: layouts, language versions, preview and test send."),
         _templates),
    Area("sends", "lists:sends", _("One-off sends"),
         _("Send a template once to a list of leads, now or at a set time."), _sends),
    Area("lists", "lists:index", _("Lists"),
         _("Static lists of leads, filled by hand, by pasting addresses or by the API."),
         _anyone),
    # The menu showed topics to their editors only, though everyone may read them.
    Area("topics", "emails:topics", _("Topics (preference centre)"),
         _("The kinds of marketing email each lead chooses among."), topics.may_edit),
    Area("suppression", "emails:suppression", _("Suppression list"),
         _("Addresses no email goes to: unsubscribes, bounces, complaints."),
         suppression_list.may_view),
    Area("caps", "emails:caps", _("Frequency caps"),
         _("At most so many marketing emails to a lead within so many hours."),
         caps.may_view),
    Area("senders", "emails:senders", _("Senders (SPF/DKIM/DMARC)"),
         _("Who your emails are from, and the DNS records their domains need."),
         senders.may_view),
    Area("deliverability", "emails:deliverability", _("Deliverability (bounces and complaints)"),
         _("Bounce and complaint rates per sending domain, and the latest reports."),
         may_manage_email),
)


def areas_for(user: User) -> list[Area]:
    """The areas `user` may open, in the hub's order; none for a visitor not signed in."""
    if not user.is_authenticated:
        return []
    return [area for area in AREAS if area.may_open(user)]
