# La page d'état (issue 7) : page publique, console, abonnements.
unsubscribe-status-ask = Ne plus envoyer les avis de la page d'état à
unsubscribe-status-button = Se désabonner
unsubscribe-status-done = La page d'état n'enverra plus d'avis à

field-components = Composants touchés
field-next_update_by = Prochaine mise à jour au plus tard
field-scheduled_for = Début
field-scheduled_until = Fin
field-text_en = Texte (anglais)
field-text_fr = Texte (français)
field-scope = Où l'afficher
field-level = Niveau
field-group_id = Groupe
field-source_organization_id = Source de données (organisation)

error-duplicate_code = Ce code est déjà utilisé : { $field }.
error-unknown_status_group = Ce groupe de composants n'existe pas : { $field }.
error-unknown_component = Ce composant n'existe pas : { $field }.
error-duplicate_component = Un composant figure deux fois : { $field }.
error-ends_before_start = La fin doit suivre le début : { $field }.
error-ends_in_the_past = La fin est déjà passée : { $field }.
error-incident_resolved = Cet incident est résolu; seule son analyse post-incident peut encore être publiée.
error-maintenance_finished = Cette maintenance est terminée ou annulée.
error-rate_limited = Trop de demandes; veuillez patienter quelques minutes et réessayer.
error-not_published = Ce billet n'a pas encore d'incident sur la page d'état.
