"""What a back-office form offers to choose from, instead of codes to type.

A field with choices carries them in its JSON schema as piccolo-admin's table columns do,
`extra.choices = {key: {"display_name": <English label>, "value": <code>}}`: fixed ones from the
model (`choice_field`), and those that depend on who asks and on the data (their requests, the
active specialists, the configured contact reasons) from `live_choices`, which the guard merges in
when piccolo-admin fetches `/api/forms/<slug>/schema/`.

piccolo-admin 1.14 draws a table column's choices as a select, but its custom forms pass no
choices to their inputs: `FORM_SELECTS`, added to the app's page by the guard, puts a select (a
list of checkboxes for a multi-valued field) in place of each such input, carrying the codes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field

from gateway.change_requests import queries
from gateway.change_requests.states import OPEN_STATUSES, Status
from gateway.core.db.connection import fetch
from gateway.i18n.labels import LABELS, label
from gateway.staff import queries as staff_queries
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.tickets import display_ticket
from settings import get_settings

Choices = dict[str, dict[str, str]]


def as_choices(labels: Mapping[str, str]) -> Choices:
    """{code: label} as piccolo-admin's choices, in the order given."""
    return {code: {"display_name": text, "value": code} for code, text in labels.items()}


def english_label(member: enum.Enum) -> str:
    """The member's English label, a marked string: translated where it is shown."""
    return LABELS.get(member, str(member.value))


def enum_labels(members: Iterable[enum.Enum]) -> dict[str, str]:
    """Each member's code and its English label (the guard translates labels on the way out)."""
    return {str(member.value): english_label(member) for member in members}


def choice_field(labels: Mapping[str, str] | None = None, **field: Any) -> Any:
    """A form field whose value is one of `labels`' codes (or, for a list, several), shown by
    label; without `labels`, its choices are live (`live_choices`)."""
    extra = {"extra": {"choices": as_choices(labels or {})}}
    return Field(json_schema_extra=extra, **field)  # type: ignore[arg-type]


_OWN_STEPS = (Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.REJECTED)
_BEFORE_APPLY = (*_OWN_STEPS, Status.NEW)
_REVIEWABLE = (Status.APPLIED, Status.PROCESSED)
_AMENDABLE = (Status.APPLIED, Status.APPROVED)
# A select is for a queue, not an archive: past this many candidates the field stays a text
# box where the ticket is typed in any spelling (a select cut short would hide the rest).
_LIMIT = 300


async def _requests(
    statuses: Iterable[Status], staff: StaffMember, *, own: bool = False, not_made: bool = False
) -> dict[str, str] | None:
    rows = await fetch(
        queries.CHOICES,
        [status.value for status in statuses],
        staff.id if own else None,
        staff.id if not_made else None,
        _LIMIT + 1,
    )
    if len(rows) > _LIMIT:
        return None
    return {
        str(row["id"]): " · ".join(
            part
            for part in (
                display_ticket(row["ticket"]),
                row["company_name"] or "",
                label(Status(row["status"])),
            )
            if part
        )
        for row in rows
    }


async def _specialists() -> dict[str, str]:
    rows = await fetch(
        staff_queries.ACTIVE_WITH_ROLE,
        Role.SPECIALIST.value,
    )
    named = {}
    for row in rows:
        name = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
        named[row["username"]] = f"{name} ({row['username']})" if name else row["username"]
    return named


def _reasons() -> dict[str, str]:
    return {code: code for code in get_settings().all_contact_reasons}


async def live_choices(form_slug: str, staff: StaffMember) -> dict[str, dict[str, str]]:
    """The choices of `form_slug`'s fields that depend on `staff` and the data: {field: {code:
    label}}. Requests are labelled with their ticket, company and status (in the staff
    member's language); specialists by name; contact reasons by their codes."""
    choices: dict[str, dict[str, str] | None] = {}
    if form_slug == "update-status":
        choices["request"] = await _requests(_OWN_STEPS, staff, own=True)
    elif form_slug == "amend-resolution":
        own = staff.role is Role.SPECIALIST
        choices["request"] = await _requests(_AMENDABLE, staff, own=own)
        choices["contact_reasons"] = _reasons()
    elif form_slug == "assign-request":
        choices["request"] = await _requests(_BEFORE_APPLY, staff)
        choices["specialist"] = await _specialists()
    elif form_slug == "fraud-stop" and staff.role is Role.TEAM_LEAD:
        # Leads work the queues; an admin, who has no request screens, types the ticket.
        choices["request"] = await _requests(OPEN_STATUSES, staff)
    elif form_slug in ("approve-request", "reject-request"):
        choices["request"] = await _requests(_REVIEWABLE, staff, not_made=True)
    return {field: offered for field, offered in choices.items() if offered is not None}


# The SPA routes with pushState, which fires no event: look every 200 ms, as the guard's other
# scripts do. A form is done once its named inputs are exactly its schema's fields (Vue reuses a
# form between routes); the original input stays, disabled and hidden, so FormData skips it.
FORM_SELECTS = """<script>(function(){
var busy=null,seen=null;
function slugNow(){var m=location.hash.match(/^#\\/forms\\/([^\\/?]+)/);return m?m[1]:null;}
function own(form){return Array.prototype.filter.call(form.elements,function(e){
 return e.name&&!e.hasAttribute('data-bg-choice');});}
function undo(form){form.querySelectorAll('[data-bg-choice]').forEach(function(e){e.remove();});
 form.querySelectorAll('[data-bg-hidden]').forEach(function(e){e.disabled=false;e.style.display='';
 e.removeAttribute('data-bg-hidden');});delete form.dataset.bgFor;}
function hide(e){e.disabled=true;e.style.display='none';e.setAttribute('data-bg-hidden','1');}
function kind(p){return p.type||(p.anyOf&&p.anyOf[0]&&p.anyOf[0].type);}
function one(form,name,p,required,list){var input=form.querySelector('[name="'+name+'"]');
 var s=document.createElement('select');s.name=name;s.setAttribute('data-bg-choice','1');
 s.setAttribute('data-field',name);var blank=document.createElement('option');blank.value='';
 blank.textContent='\\u2014';if(required&&p.default==null){blank.disabled=true;s.required=true;}
 s.appendChild(blank);var chosen=p.default==null?'':String(p.default);list.forEach(function(c){
 var o=document.createElement('option');o.value=c.value;o.textContent=c.display_name;
 if(String(c.value)===chosen){o.selected=true;}s.appendChild(o);});if(!chosen){blank.selected=true;}
 hide(input);input.parentNode.insertBefore(s,input.nextSibling);}
function many(form,name,p,list){
 var widget=form.querySelector('[data-uitest="'+name+'_array_widget"]');
 var input=form.querySelector('input[type=hidden][name="'+name+'"]');
 var box=document.createElement('div');
 box.setAttribute('data-bg-choice','1');box.setAttribute('data-field',name);box.className='bg-choices';
 var value=document.createElement('input');value.type='hidden';value.name=name;
 value.setAttribute('data-bg-choice','1');var chosen=(p.default||[]).map(String);
 function sync(){value.value=JSON.stringify(Array.prototype.filter.call(box.querySelectorAll(
  'input[type=checkbox]'),function(b){return b.checked;}).map(function(b){return b.value;}));}
 list.forEach(function(c){var l=document.createElement('label');l.style.display='block';
  var b=document.createElement('input');b.type='checkbox';b.value=c.value;
  b.checked=chosen.indexOf(String(c.value))>=0;b.addEventListener('change',sync);l.appendChild(b);
  l.appendChild(document.createTextNode(' '+c.display_name));box.appendChild(l);});sync();
 if(widget){widget.style.display='none';widget.setAttribute('data-bg-hidden','1');}
 hide(input);input.parentNode.insertBefore(box,input.nextSibling);box.appendChild(value);}
function enhance(form,schema,slug){var props=schema.properties||{},names=Object.keys(props);
 var have=own(form).map(function(e){return e.name;});
 if(names.some(function(n){return have.indexOf(n)<0;})||have.some(function(n){
  return names.indexOf(n)<0;})){return false;}var req=schema.required||[];
 names.forEach(function(n){var p=props[n],c=p.extra&&p.extra.choices;if(!c){return;}
  var list=Object.keys(c).map(function(k){return c[k];});
  if(kind(p)==='array'){many(form,n,p,list);}else{one(form,n,p,req.indexOf(n)>=0,list);}});
 form.dataset.bgFor=slug;return true;}
function tick(){var slug=slugNow();
 var b=document.querySelector('[data-uitest=submit_custom_form_button]');
 var form=b&&b.form;if(!slug||!form){seen=null;return;}
 if(form.dataset.bgFor&&form.dataset.bgFor!==slug){undo(form);}
 if(form.dataset.bgFor===slug||busy){return;}
 if(seen&&seen.slug===slug&&seen.form===form){enhance(form,seen.schema,slug);return;}
 busy=fetch('./api/forms/'+slug+'/schema/',{credentials:'same-origin'}).then(function(r){
  return r.ok?r.json():null;}).then(function(schema){busy=null;
  if(schema){seen={slug:slug,form:form,schema:schema};}},function(){busy=null;});}
setInterval(tick,200);})();</script>"""
