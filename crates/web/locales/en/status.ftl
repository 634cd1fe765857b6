# The status page (issue 7): public page, console, subscriptions.
unsubscribe-status-ask = Stop the status page's notices to
unsubscribe-status-button = Unsubscribe
unsubscribe-status-done = The status page will send no more notices to

field-components = Affected components
field-next_update_by = Next update by
field-scheduled_for = Starts
field-scheduled_until = Ends
field-text_en = Text (English)
field-text_fr = Text (French)
field-scope = Where it shows
field-level = Level
field-group_id = Group
field-source_organization_id = Source of data (organization)

error-duplicate_code = This code is already used: { $field }.
error-unknown_status_group = This component group does not exist: { $field }.
error-unknown_component = This component does not exist: { $field }.
error-duplicate_component = A component is listed twice: { $field }.
error-ends_before_start = The end must come after the start: { $field }.
error-ends_in_the_past = The end is already past: { $field }.
error-incident_resolved = This incident is resolved; only its postmortem may still be posted.
error-maintenance_finished = This maintenance is completed or cancelled.
error-rate_limited = Too many requests; please wait a few minutes and try again.
error-not_published = This ticket has no status-page incident yet.
