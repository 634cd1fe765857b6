skip-to-content = Aller au contenu
nav-main = Navigation principale
nav-home = Accueil
nav-organizations = Organismes
nav-people = Personnes
nav-groups = Groupes de soutien
nav-outbox = Boîte d'envoi
nav-audit = Journal d'audit
nav-profile = Mon profil
sign-in = Se connecter
sign-in-title = Se connecter à Triage
sign-in-with = Se connecter avec { $organization }
or-password = ou utilisez votre mot de passe Triage :
sign-out = Se déconnecter
continue = Continuer
welcome = Bienvenue, { $name }
phi-warning = N'inscrivez aucun renseignement personnel sur la santé (RPS) ni renseignement personnel dans ce que vous écrivez ici.
error-title = Un problème est survenu
error-code-label = Code d'erreur :
forgot-link = Mot de passe oublié?
forgot-title = Réinitialiser votre mot de passe
forgot-intro = Entrez votre adresse courriel. Si un compte l'utilise, nous enverrons un lien pour choisir un nouveau mot de passe.
forgot-send = Envoyer le lien
forgot-sent = Si un compte utilise cette adresse, un message est en route avec un lien valable une seule fois, pendant une heure.
reset-title = Choisir un nouveau mot de passe
reset-intro = Utilisez au moins 12 caractères. Une courte phrase est facile à retenir et difficile à deviner.
reset-save = Enregistrer mon nouveau mot de passe
notice-password-changed = Votre mot de passe a été changé. Connectez-vous avec celui-ci.
access-link = Demander des identifiants pour le portail
access-title = Demander des identifiants pour le portail
access-intro = L'autorité locale d'enregistrement (ALE) de votre organisme reçoit cette demande et crée votre compte.
access-send = Envoyer la demande
access-sent = Votre demande a été transmise à l'autorité locale d'enregistrement de votre organisme, qui communiquera avec vous.
access-requests-title = Demandes d'identifiants
tokens-title = Jetons d'API
tokens-intro = Un jeton permet à un script d'utiliser l'API de Triage en votre nom : envoyez-le comme « Authorization: Bearer <jeton> ».
tokens-shown-once = Copiez ce jeton maintenant; il ne sera plus affiché :
tokens-create = Créer un jeton
tokens-prefix = Commence par
tokens-last-used = Dernière utilisation
tokens-revoked = Révoqué
tokens-revoke = Révoquer
actions = Actions
created = Créé
granted = Attribué
save = Enregistrer
saved = Enregistré.
create = Créer
search = Rechercher
filter = Filtrer
all = Tous
yes = Oui
no = Non
older = Entrées plus anciennes
revoke = Retirer
grant = Attribuer
record = Consigner
secret-set = défini; laissez vide pour le conserver
org-new = Nouvel organisme
org-identity = Organisme
org-sign-in = Connexion
org-contacts = Personnes-ressources
person-new = Nouvelle personne
person-new-intro = La personne reçoit un courriel avec un lien pour choisir son mot de passe.
person-send-reset = Envoyer par courriel un lien pour choisir un nouveau mot de passe
person-reset-sent = Un lien pour choisir un nouveau mot de passe a été envoyé par courriel.
person-details = Renseignements
role-grant = Attribuer un rôle
trainings-title = Formation
training-elearning = Module d'apprentissage en ligne
training-hands_on = Formation pratique
group-new = Nouveau groupe de soutien
calendars-title = Calendriers
calendar-new = Nouveau calendrier d'après les heures ci-dessous
outbox-intro = Messages rédigés par Triage, les plus récents d'abord. Ils seront livrés une fois le courriel sortant configuré.
hint-ticket_number_format = # représente un chiffre, A une lettre majuscule; tout autre caractère doit correspondre tel quel. Exemple : INC#######
hint-weekly_hours = Un jour par ligne : mon 08:00-17:00. Plusieurs plages sont permises, ainsi que « closed » et « 24h »; « holiday » s'applique aux jours fériés.
field-email = Courriel
field-password = Mot de passe
field-new-password = Nouveau mot de passe
field-confirm-password = Nouveau mot de passe (encore)
field-name = Nom
field-display_name = Nom
field-phone = Téléphone
field-job_title = Titre du poste
field-reason = Pourquoi vous avez besoin d'un accès
field-locale = Langue
field-organization_id = Organisme
field-roles = Rôles
field-role = Rôle
field-status = État
field-active = Actif
field-code = Code
field-name_en = Nom (anglais)
field-name_fr = Nom (français)
field-org_type = Type
field-contributes_data = Fournit des données
field-services = Services auxquels il participe
field-identity_provider = Fournisseur d'identité
field-oidc_issuer = URL de l'émetteur OpenID Connect
field-oidc_client_id = Identifiant client OpenID Connect
field-oidc_client_secret = Secret client OpenID Connect
field-helpdesk_phone = Téléphone du service de dépannage
field-helpdesk_email = Courriel du service de dépannage
field-escalation_title = Personne-ressource pour la remontée : rôle ou titre
field-escalation_name = Personne-ressource pour la remontée : nom
field-escalation_email = Personne-ressource pour la remontée : courriel
field-escalation_mobile = Personne-ressource pour la remontée : cellulaire ou téléavertisseur
field-after_hours_contacts = Personnes-ressources après les heures
field-spoc_name = Point de contact unique : nom
field-spoc_email = Point de contact unique : courriel
field-spoc_phone = Point de contact unique : téléphone
field-distribution_list = Liste de diffusion des avis de service
field-ticket_number_format = Format de leurs numéros de billet
field-calendar = Calendrier
field-calendar_id = Calendrier
field-time_zone = Fuseau horaire
field-weekly_hours = Heures hebdomadaires
field-module = Module
field-completed_on = Terminé le
field-entity_type = Type de dossier
field-entity_id = Numéro du dossier
field-action = Action
field-at = Quand (UTC)
field-actor = Qui
field-detail = Détail
field-body = Corps de la requête
status-active = Actif
status-pending_training = En attente de formation
org-type-operator = Exploitant
org-type-hospital = Hôpital
org-type-community_care = Soins communautaires
org-type-sole_practitioner = Praticien seul
org-type-lab = Laboratoire
org-type-clinic = Clinique
org-type-public_health = Santé publique
org-type-vendor = Fournisseur
org-type-other = Autre
idp-operator = Exploitant (mots de passe Triage)
idp-federated = Fédéré (celui de l'organisme)
idp-provincial = Service d'identité provincial
role-signatory = Signataire de l'entente
role-privacy_contact = Personne-ressource en matière de confidentialité
role-privacy_auditor = Vérificateur de la confidentialité
role-lra = Autorité locale d'enregistrement (ALE)
role-cpc = Point de contact central (PCC)
role-local_help_desk = Service de dépannage local
role-end_user = Utilisateur final
role-agent_tier1 = Agent, niveau 1
role-agent_tier2 = Agent, niveau 2
role-group_lead = Chef de groupe
role-incident_coordinator = Coordonnateur des incidents
role-change_manager = Gestionnaire des changements
role-problem_manager = Gestionnaire des problèmes
role-privacy_office = Bureau de la protection de la vie privée
role-security_team = Équipe de sécurité
role-administrator = Administrateur
error-internal = Un problème est survenu de notre côté. Il a été consigné; veuillez réessayer.
error-not_found = Ce dossier n'existe pas ou vous ne pouvez pas le voir.
error-forbidden = Vous n'êtes pas autorisé à faire ceci.
error-unauthenticated = Veuillez d'abord vous connecter.
error-invalid_token = Ce jeton d'API n'est pas valide ou a été révoqué.
error-csrf_failed = Ce formulaire a expiré ou provient d'un autre site. Rechargez la page et réessayez.
error-method_not_allowed = Cette adresse n'accepte pas cette méthode.
error-payload_too_large = La requête est trop volumineuse.
error-unsupported_media_type = Envoyez le corps de la requête en JSON (Content-Type: application/json).
error-malformed_json = Le corps de la requête n'est pas du JSON valide.
error-unknown_field = La requête contient un champ inconnu de ce point d'accès ({ $field }).
error-missing_field = Il manque un champ obligatoire à la requête ({ $field }).
error-invalid_type = Une valeur de la requête n'a pas le bon type ({ $field }).
error-invalid_form = Le formulaire n'a pas pu être lu.
error-required = Veuillez remplir : { $field }.
error-too_long = Cette valeur est trop longue : { $field }.
error-invalid_characters = Cette valeur contient des caractères non permis : { $field }.
error-invalid_email = Cette adresse courriel n'est pas valide : { $field }.
error-invalid_phone = Ce numéro de téléphone n'est pas valide : { $field }.
error-invalid_choice = Ce choix n'est pas offert : { $field }.
error-invalid_code = Utilisez seulement des lettres, des chiffres, - et _ : { $field }.
error-invalid_url = Entrez une adresse Web complète commençant par https:// : { $field }.
error-invalid_pattern = Utilisez # pour les chiffres et A pour les majuscules : { $field }.
error-invalid_date = Entrez une date au format AAAA-MM-JJ : { $field }.
error-invalid_hours = Écrivez un jour par ligne, comme « mon 08:00-17:00 » : { $field }.
error-invalid_time_zone = Ce fuseau horaire est inconnu : { $field }.
error-unknown_service = Un des services n'existe pas : { $field }.
error-unknown_calendar = Ce calendrier n'existe pas : { $field }.
error-unknown_organization = Cet organisme n'existe pas : { $field }.
error-email_taken = Un autre compte utilise déjà cette adresse courriel.
error-code_taken = Un autre dossier utilise déjà ce code.
error-name_taken = Un autre dossier utilise déjà ce nom.
error-role_already_granted = Cette personne détient déjà ce rôle.
error-role_not_for_organization = Ce rôle ne peut pas être détenu dans cet organisme : { $field }.
error-privacy_contact_training_required = Les comptes ne peuvent être créés qu'une fois que la personne-ressource en matière de confidentialité de l'organisme a terminé l'apprentissage en ligne.
error-cannot_deactivate_self = Vous ne pouvez pas désactiver votre propre compte.
error-cannot_revoke_own_admin = Vous ne pouvez pas retirer votre propre rôle d'administrateur.
error-password_too_short = Utilisez au moins 12 caractères : { $field }.
error-passwords_differ = Les deux mots de passe ne sont pas identiques.
error-sign_in_failed = Le courriel ou le mot de passe n'est pas le bon.
error-account_locked = Trop de tentatives infructueuses : ce compte est verrouillé pendant { $minutes } minutes. Utilisez « Mot de passe oublié? » pour le déverrouiller maintenant.
error-reset_link_invalid = Ce lien n'est pas valide. Demandez-en un nouveau.
error-reset_link_expired = Ce lien a expiré. Demandez-en un nouveau.
error-reset_link_used = Ce lien a déjà été utilisé. Demandez-en un nouveau.
error-oidc_failed = Le service de connexion de votre organisme n'a pas répondu comme prévu. Réessayez ou utilisez votre mot de passe.
error-oidc_not_configured = Cet organisme n'utilise pas l'authentification unique.
error-oidc_state_invalid = Cette tentative de connexion a expiré. Recommencez.
error-oidc_no_account = Votre organisme a confirmé votre identité, mais vous n'avez pas de compte Triage. Adressez-vous à votre autorité locale d'enregistrement.
mail-signature = Service de dépannage Triage
mail-welcome-subject = Votre compte Triage
mail-welcome-body = Bonjour { $name },

    Un compte a été créé pour vous chez { $organization }. Choisissez votre mot de passe avec ce lien (valable une fois, pendant une heure) :

    { $link }
mail-reset-subject = Réinitialisation de votre mot de passe Triage
mail-reset-body = Quelqu'un a demandé de réinitialiser le mot de passe de ce compte. Si c'était vous, choisissez un nouveau mot de passe avec ce lien, valable une fois, pendant { $minutes } minutes :

    { $link }

    Si ce n'était pas vous, ignorez ce message : votre mot de passe ne change pas.
mail-reset-elsewhere-subject = Votre mot de passe Triage est géré par votre organisme
mail-reset-elsewhere-body = Quelqu'un a demandé de réinitialiser le mot de passe de ce compte. Vous vous connectez avec les identifiants de { $organization }, que Triage ne peut pas réinitialiser. Veuillez communiquer avec le service de dépannage de votre organisme.
mail-credentials-request-subject = Demande d'identifiants de { $name }
mail-credentials-request-body = { $name } <{ $email }> demande des identifiants pour le portail chez { $organization }.

    Motif indiqué : { $reason }

    À titre d'autorité locale d'enregistrement, veuillez créer le compte ou communiquer avec la personne.

## Tickets: errors
error-phi_detected = Ceci ressemble à des renseignements personnels sur la santé ({ $what ->
        [health_card] un numéro de carte Santé de l'Ontario
        [date_of_birth] une date de naissance à côté d'un nom
        [medical_record_number] un numéro de dossier médical
       *[other] des renseignements personnels sur la santé
    }) dans { $field } : « { $excerpt } ». Retirez-les avant d'enregistrer; votre texte est conservé.
error-unknown_subcategory = Ce type de demande n'est pas au catalogue : { $field }.
error-unknown_request_type = Ce type de demande n'existe pas : { $field }.
error-unknown_kind = Ce genre de billet n'existe pas ou vous ne pouvez pas le créer : { $field }.
error-kind_mismatch = Le genre ne correspond pas au type de demande choisi : { $field }.
error-person_not_in_organization = Cette personne n'est pas un membre actif de l'organisme du billet : { $field }.
error-unknown_group = Ce groupe de soutien n'existe pas : { $field }.
error-invalid_datetime = Entrez une date et une heure, par exemple 2026-11-23T08:30 : { $field }.
error-in_future = Cette date et heure est dans le futur : { $field }.
error-workaround_conflict = Décrivez la solution de rechange ou cochez « Aucune solution de rechange », pas les deux.
error-out_of_range = Cette valeur est hors limites : { $field }.
error-too_many = Trop de valeurs : { $field }.
error-invalid_reference = Cette référence n'est pas valide : { $field }.
error-reference_exists = Cette référence figure déjà au billet.
error-transition_not_allowed = Un billet ne peut pas passer de « { $from } » à « { $to } ».
error-ticket_closed = Ce billet est fermé ou annulé et ne peut plus être modifié.
error-reopen_period_over = Ce billet a été résolu il y a trop longtemps pour être rouvert. Créez une nouvelle demande et citez son numéro.
error-stale_version = Quelqu'un a modifié ce billet après que vous l'avez ouvert. Rechargez-le et réessayez.
error-nothing_to_change = La demande ne change rien.
error-invalid_escalation = Un billet ne peut être acheminé qu'à un palier supérieur (2 = soutien applicatif, 3 = fournisseur) : { $field }.
error-not_group_member = Cette personne n'est pas membre du groupe de soutien du billet : { $field }.
error-link_not_allowed = Ces deux billets ne peuvent pas être liés ainsi : { $field }.
error-already_linked = Ces billets sont déjà liés.
error-unknown_ticket = Aucun billet visible pour vous ne porte ce numéro : { $field }.
error-merge_not_allowed = Seuls des billets ouverts du même organisme et de même visibilité peuvent être fusionnés : { $field }.
error-nothing_to_redact = Rien de correspondant à caviarder : { $field }.
error-attachment_too_large = Ce fichier est trop volumineux : { $field }.
error-attachment_type_refused = Ce type de fichier ne peut pas être joint. Utilisez des images, des PDF, du texte, du CSV ou des documents Office.
error-attachment_type_mismatch = Le contenu du fichier ne correspond pas à son nom : { $field }.
error-empty_file = Ce fichier est vide : { $field }.
error-attachment_infected = L'antivirus a refusé ce fichier : { $field }.
error-scanner_unavailable = Les fichiers ne peuvent pas être vérifiés pour le moment. Réessayez dans quelques minutes.
error-invalid_cursor = Ce lien de page n'est pas valide; recommencez à la première page.
error-invalid_form_field = Un champ du formulaire n'est pas valide (nom standard, ou nom x_ avec libellés anglais et français) : { $field }.
error-duplicate_field = Un champ du formulaire figure deux fois : { $field }.
error-unknown_service_code = Ce service n'existe pas : { $field }.

## Tickets: field names
field-kind = Genre
field-subcategory_id = Type de demande
field-request_type_id = Type de demande
field-service_id = Service
field-on_behalf_of = Créé au nom de
field-summary = Résumé
field-details = Détails
field-impact = Impact
field-urgency = Urgence
field-priority = Priorité
field-configuration_item = Élément de configuration
field-first_occurrence = Première occurrence
field-service_impact = Impact sur le service
field-user_impact = Impact sur les utilisateurs finaux
field-troubleshooting = Dépannage déjà effectué
field-workaround = Solution de rechange
field-partner_reference = Votre numéro de billet
field-custom = Champ du formulaire
field-channel = Canal
field-support_group_id = Groupe de soutien
field-assignee_id = Responsable
field-escalate_to_tier = Palier d'acheminement
field-status_reason = Motif
field-priority_reason = Motif de la nouvelle priorité
field-attachment = Pièce jointe
field-person = Personne
field-number = Numéro de billet
field-into = Billet de destination de la fusion
field-target = Élément à caviarder
field-text = Texte
field-link = Lien
field-query = Requête
field-limit = Taille de page
field-cursor = Page
field-sort = Tri
field-organization = Organisme
field-service = Service
field-group = Groupe de soutien
field-assignee = Responsable
field-numbers = Billets
field-fields = Champs du formulaire
field-description_en = Description (anglais)
field-description_fr = Description (français)
field-title_en = Titre (anglais)
field-title_fr = Titre (français)
field-body_en = Texte (anglais)
field-body_fr = Texte (français)
field-comment = Commentaire

## Tickets: mail
mail-ticket-created-subject = [{ $number }] Nous avons reçu votre demande : { $summary }
mail-ticket-created-body = Votre demande a été consignée sous le numéro { $number } : { $summary }
    Citez ce numéro chaque fois que vous communiquez avec le service de dépannage à ce sujet. Suivez-la ici :
    { $link }
mail-ticket-in-progress-subject = [{ $number }] Nous traitons votre demande
mail-ticket-in-progress-body = Le service de dépannage traite maintenant { $number } : { $summary }
    { $link }
mail-ticket-pending-subject = [{ $number }] Votre demande est en attente
mail-ticket-pending-body = { $number } ({ $summary }) est en attente ({ $status ->
        [pending_customer] de votre réponse
        [pending_vendor] d'un fournisseur
       *[other] d'un changement planifié
    }).
    { $link }
mail-ticket-resolved-subject = [{ $number }] Votre demande est résolue
mail-ticket-resolved-body = Le service de dépannage a résolu { $number } : { $summary }
    Si le problème persiste, rouvrez-la à partir de cette page :
    { $link }
mail-ticket-reply-subject = [{ $number }] Nouvelle réponse : { $summary }
mail-ticket-reply-body = Le service de dépannage a répondu au billet { $number } :

    { $body }

    { $link }
