skip-to-content = Skip to content
nav-main = Main navigation
nav-home = Home
nav-organizations = Organizations
nav-people = People
nav-groups = Support groups
nav-outbox = Outbox
nav-audit = Audit log
nav-profile = My profile
sign-in = Sign in
sign-in-title = Sign in to Triage
sign-in-with = Sign in with { $organization }
or-password = or use your Triage password:
sign-out = Sign out
continue = Continue
welcome = Welcome, { $name }
phi-warning = Do not include patient health information (PHI) or personal information in anything you write here.
error-title = Something went wrong
error-code-label = Error code:
forgot-link = Forgot your password?
forgot-title = Reset your password
forgot-intro = Enter your email address. If an account uses it, we will send a link to choose a new password.
forgot-send = Send the link
forgot-sent = If an account uses that address, a message is on its way with a link that works once, for one hour.
reset-title = Choose a new password
reset-intro = Use at least 12 characters. A short sentence is easy to remember and hard to guess.
reset-save = Save my new password
notice-password-changed = Your password was changed. Sign in with it now.
access-link = Request portal credentials
access-title = Request portal credentials
access-intro = Your organization's local registration authority (LRA) receives this request and creates your account.
access-send = Send the request
access-sent = Your request was sent to your organization's local registration authority. They will contact you.
access-requests-title = Credential requests
tokens-title = API tokens
tokens-intro = A token lets a script use the Triage API as you: send it as "Authorization: Bearer <token>".
tokens-shown-once = Copy this token now; it will not be shown again:
tokens-create = Create a token
tokens-prefix = Starts with
tokens-last-used = Last used
tokens-revoked = Revoked
tokens-revoke = Revoke
actions = Actions
created = Created
granted = Granted
save = Save
saved = Saved.
create = Create
search = Search
filter = Filter
all = All
yes = Yes
no = No
older = Older entries
revoke = Revoke
grant = Grant
record = Record
secret-set = set; leave empty to keep it
org-new = New organization
org-identity = Organization
org-sign-in = Sign-in
org-contacts = Contacts
person-new = New person
person-new-intro = The person receives an email with a link to choose their password.
person-send-reset = Email a link to choose a new password
person-reset-sent = A link to choose a new password was emailed.
person-details = Details
role-grant = Grant a role
trainings-title = Training
training-elearning = E-learning module
training-hands_on = Hands-on training
group-new = New support group
calendars-title = Calendars
calendar-new = New calendar from the hours below
outbox-intro = Messages Triage has written, newest first. They are delivered once outgoing mail is configured.
hint-ticket_number_format = # stands for a digit, A for a capital letter; anything else must match as written. Example: INC#######
hint-weekly_hours = One day per line: mon 08:00-17:00. Several ranges are allowed; "closed" and "24h" too; "holiday" sets statutory holidays.
field-email = Email
field-password = Password
field-new-password = New password
field-confirm-password = New password again
field-name = Name
field-display_name = Name
field-phone = Phone
field-job_title = Job title
field-reason = Why you need access
field-locale = Language
field-organization_id = Organization
field-roles = Roles
field-role = Role
field-status = Status
field-active = Active
field-code = Code
field-name_en = Name (English)
field-name_fr = Name (French)
field-org_type = Type
field-contributes_data = Contributes data
field-services = Services it is live on
field-identity_provider = Identity provider
field-oidc_issuer = OpenID Connect issuer URL
field-oidc_client_id = OpenID Connect client id
field-oidc_client_secret = OpenID Connect client secret
field-helpdesk_phone = Help desk phone
field-helpdesk_email = Help desk email
field-escalation_title = Escalation contact: role or title
field-escalation_name = Escalation contact: name
field-escalation_email = Escalation contact: email
field-escalation_mobile = Escalation contact: mobile or pager
field-after_hours_contacts = After-hours contacts
field-spoc_name = Single point of contact: name
field-spoc_email = Single point of contact: email
field-spoc_phone = Single point of contact: phone
field-distribution_list = Service notice distribution list
field-ticket_number_format = Their ticket-number format
field-calendar = Calendar
field-time_zone = Time zone
field-weekly_hours = Weekly hours
field-module = Module
field-completed_on = Completed on
field-entity_type = Record type
field-entity_id = Record id
field-action = Action
field-at = When (UTC)
field-actor = Who
field-detail = Detail
field-body = Request body
field-calendar_id = Calendar
status-active = Active
status-pending_training = Waiting for training
org-type-operator = Operator
org-type-hospital = Hospital
org-type-community_care = Community care
org-type-sole_practitioner = Sole practitioner
org-type-lab = Laboratory
org-type-clinic = Clinic
org-type-public_health = Public health
org-type-vendor = Vendor
org-type-other = Other
idp-operator = Operator (Triage passwords)
idp-federated = Federated (the organization's own)
idp-provincial = Provincial identity service
role-signatory = Agreement signatory
role-privacy_contact = Privacy contact
role-privacy_auditor = Privacy auditor
role-lra = Local registration authority (LRA)
role-cpc = Central point of contact (CPC)
role-local_help_desk = Local help desk
role-end_user = End user
role-agent_tier1 = Agent, tier 1
role-agent_tier2 = Agent, tier 2
role-group_lead = Group lead
role-incident_coordinator = Incident coordinator
role-change_manager = Change manager
role-problem_manager = Problem manager
role-privacy_office = Privacy office
role-security_team = Security team
role-administrator = Administrator
error-internal = Something went wrong on our side. The problem was logged; please try again.
error-not_found = This record does not exist or you may not see it.
error-forbidden = You are not allowed to do this.
error-unauthenticated = Please sign in first.
error-invalid_token = This API token is not valid or was revoked.
error-csrf_failed = This form expired or came from another site. Reload the page and try again.
error-method_not_allowed = This address does not accept that method.
error-payload_too_large = The request is too large.
error-unsupported_media_type = Send the request body as JSON (Content-Type: application/json).
error-malformed_json = The request body is not valid JSON.
error-unknown_field = The request has a field this endpoint does not know ({ $field }).
error-missing_field = The request lacks a required field ({ $field }).
error-invalid_type = A value in the request has the wrong type ({ $field }).
error-invalid_form = The form could not be read.
error-required = Please fill in: { $field }.
error-too_long = This value is too long: { $field }.
error-invalid_characters = This value contains characters that are not allowed: { $field }.
error-invalid_email = This is not a valid email address: { $field }.
error-invalid_phone = This is not a valid phone number: { $field }.
error-invalid_choice = This choice is not available: { $field }.
error-invalid_code = Use letters, digits, - and _ only: { $field }.
error-invalid_url = Enter a full web address starting with https://: { $field }.
error-invalid_pattern = Use # for digits and A for capital letters: { $field }.
error-invalid_date = Enter a date as YYYY-MM-DD: { $field }.
error-invalid_hours = Write one day per line, like "mon 08:00-17:00": { $field }.
error-invalid_time_zone = This time zone is unknown: { $field }.
error-unknown_service = One of the services does not exist: { $field }.
error-unknown_calendar = This calendar does not exist: { $field }.
error-unknown_organization = This organization does not exist: { $field }.
error-email_taken = Another account already uses this email address.
error-code_taken = Another record already uses this code.
error-name_taken = Another record already uses this name.
error-role_already_granted = This person already holds this role.
error-role_not_for_organization = This role cannot be held at this organization: { $field }.
error-privacy_contact_training_required = Accounts can be created only after the organization's privacy contact has completed e-learning.
error-cannot_deactivate_self = You cannot deactivate your own account.
error-cannot_revoke_own_admin = You cannot remove your own administrator role.
error-password_too_short = Use at least 12 characters: { $field }.
error-passwords_differ = The two passwords are not the same.
error-sign_in_failed = The email or password is not right.
error-account_locked = Too many failed attempts: this account is locked for { $minutes } minutes. Use "Forgot your password?" to unlock it now.
error-reset_link_invalid = This link is not valid. Ask for a new one.
error-reset_link_expired = This link has expired. Ask for a new one.
error-reset_link_used = This link was already used. Ask for a new one.
error-oidc_failed = Your organization's sign-in service did not answer as expected. Try again or use your password.
error-oidc_not_configured = This organization does not use single sign-on.
error-oidc_state_invalid = This sign-in attempt expired. Start again.
error-oidc_no_account = Your organization confirmed who you are, but you have no Triage account. Ask your local registration authority.
mail-signature = Triage service desk
mail-welcome-subject = Your Triage account
mail-welcome-body = Hello { $name },

    An account was created for you at { $organization }. Choose your password with this link (it works once, for one hour):

    { $link }
mail-reset-subject = Reset your Triage password
mail-reset-body = Someone asked to reset the password of this account. If it was you, choose a new password with this link; it works once, for { $minutes } minutes:

    { $link }

    If it was not you, ignore this message: your password stays the same.
mail-reset-elsewhere-subject = Your Triage password is managed by your organization
mail-reset-elsewhere-body = Someone asked to reset the password of this account. You sign in with the credentials of { $organization }, which Triage cannot reset. Please contact your organization's help desk.
mail-credentials-request-subject = Portal credentials requested by { $name }
mail-credentials-request-body = { $name } <{ $email }> asks for portal credentials at { $organization }.

    Reason given: { $reason }

    As local registration authority, please create the account or contact the requester.

## Tickets: errors
error-phi_detected = This looks like patient health information ({ $what ->
        [health_card] an Ontario health card number
        [date_of_birth] a date of birth next to a name
        [medical_record_number] a medical record number
       *[other] personal health information
    }) in { $field }: “{ $excerpt }”. Remove it before saving; your text is kept.
error-unknown_subcategory = This request type is not in the catalogue: { $field }.
error-unknown_request_type = This request type does not exist: { $field }.
error-unknown_kind = This kind of ticket does not exist or you cannot raise it: { $field }.
error-kind_mismatch = The kind does not match the chosen request type: { $field }.
error-person_not_in_organization = This person is not an active member of the ticket's organization: { $field }.
error-unknown_group = This support group does not exist: { $field }.
error-invalid_datetime = Enter a date and time, like 2026-11-23T08:30: { $field }.
error-in_future = This date and time is in the future: { $field }.
error-workaround_conflict = Describe the workaround or tick "No workaround", not both.
error-out_of_range = This value is out of range: { $field }.
error-too_many = Too many values: { $field }.
error-invalid_reference = This reference is not valid: { $field }.
error-reference_exists = This reference is already on the ticket.
error-transition_not_allowed = A ticket cannot go from “{ $from }” to “{ $to }”.
error-ticket_closed = This ticket is closed or cancelled and cannot be changed.
error-reopen_period_over = This ticket was resolved too long ago to be reopened. Raise a new request and quote its number.
error-stale_version = Someone changed this ticket after you opened it. Reload it and try again.
error-nothing_to_change = The request changes nothing.
error-invalid_escalation = A ticket can only be escalated to a higher tier (2 = application support, 3 = vendor): { $field }.
error-not_group_member = This person is not a member of the ticket's support group: { $field }.
error-link_not_allowed = These two tickets cannot be linked this way: { $field }.
error-already_linked = These tickets are already linked.
error-unknown_ticket = No ticket you can see has this number: { $field }.
error-merge_not_allowed = Only open tickets of the same organization and kind of visibility can be merged: { $field }.
error-nothing_to_redact = Nothing matching was found to redact: { $field }.
error-attachment_too_large = This file is too large: { $field }.
error-attachment_type_refused = This type of file cannot be attached. Use images, PDF, text, CSV or Office documents.
error-attachment_type_mismatch = The file's content does not match its name: { $field }.
error-empty_file = This file is empty: { $field }.
error-attachment_infected = The virus scanner refused this file: { $field }.
error-scanner_unavailable = Files cannot be checked right now. Try again in a few minutes.
error-invalid_cursor = This page link is not valid; start from the first page.
error-invalid_form_field = A form field is not valid (standard name, or x_ name with English and French labels): { $field }.
error-duplicate_field = A form field appears twice: { $field }.
error-unknown_service_code = This service does not exist: { $field }.

## Tickets: field names
field-kind = Kind
field-subcategory_id = Request type
field-request_type_id = Request type
field-service_id = Service
field-on_behalf_of = Raised on behalf of
field-summary = Summary
field-details = Details
field-impact = Impact
field-urgency = Urgency
field-priority = Priority
field-configuration_item = Configuration item
field-first_occurrence = First occurrence
field-service_impact = Impact on the service
field-user_impact = Impact on end users
field-troubleshooting = Troubleshooting already done
field-workaround = Workaround
field-partner_reference = Your ticket number
field-custom = Form field
field-channel = Channel
field-support_group_id = Support group
field-assignee_id = Assignee
field-escalate_to_tier = Escalation tier
field-status_reason = Reason
field-priority_reason = Reason for the new priority
field-attachment = Attachment
field-person = Person
field-number = Ticket number
field-into = Ticket to merge into
field-target = What to redact
field-text = Text
field-link = Link
field-query = Query
field-limit = Page size
field-cursor = Page
field-sort = Sort
field-organization = Organization
field-service = Service
field-group = Support group
field-assignee = Assignee
field-numbers = Tickets
field-fields = Form fields
field-description_en = Description (English)
field-description_fr = Description (French)
field-title_en = Title (English)
field-title_fr = Title (French)
field-body_en = Text (English)
field-body_fr = Text (French)
field-comment = Comment

## Tickets: mail
mail-ticket-created-subject = [{ $number }] We received your request: { $summary }
mail-ticket-created-body = Your request was logged as { $number }: { $summary }
    Quote this number whenever you contact the service desk about it. Follow it here:
    { $link }
mail-ticket-in-progress-subject = [{ $number }] We are working on your request
mail-ticket-in-progress-body = The service desk is now working on { $number }: { $summary }
    { $link }
mail-ticket-pending-subject = [{ $number }] Your request is waiting
mail-ticket-pending-body = { $number } ({ $summary }) is waiting ({ $status ->
        [pending_customer] for your answer
        [pending_vendor] for a vendor
       *[other] for a planned change
    }).
    { $link }
mail-ticket-resolved-subject = [{ $number }] Your request is resolved
mail-ticket-resolved-body = The service desk resolved { $number }: { $summary }
    If the problem is not solved, reopen it from this page:
    { $link }
mail-ticket-reply-subject = [{ $number }] New reply: { $summary }
mail-ticket-reply-body = The service desk replied on { $number }:

    { $body }

    { $link }
