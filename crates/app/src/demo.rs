//! Demo data drawn from the seed documents: an operator, partner organizations of each kind,
//! the operator's support groups with their hours, and one person per role.
use anyhow::Context;
use domain::org::OrgInput;
use domain::person::validate_person;
use domain::role::{Role, TrainingModule};
use serde_json::json;
use store::Db;
use store::audit::{Actor, Event, append};

pub const DEMO_PASSWORD: &str = "triage-demo-2026";

/// (email, name, language, organization code, roles, trainings)
type DemoPerson = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [Role],
    &'static [TrainingModule],
);

const BOTH: &[TrainingModule] = &[TrainingModule::Elearning, TrainingModule::HandsOn];

pub const PEOPLE: &[DemoPerson] = &[
    (
        "admin@operator.example",
        "Alex Admin",
        "en",
        "OPS",
        &[Role::Administrator],
        &[],
    ),
    (
        "agent1@operator.example",
        "Taylor Tremblay",
        "fr",
        "OPS",
        &[Role::AgentTier1],
        &[],
    ),
    (
        "agent2@operator.example",
        "Jordan Tier-Two",
        "en",
        "OPS",
        &[Role::AgentTier2],
        &[],
    ),
    (
        "lead@operator.example",
        "Morgan Lead",
        "en",
        "OPS",
        &[Role::GroupLead, Role::IncidentCoordinator],
        &[],
    ),
    (
        "change@operator.example",
        "Chris Change",
        "en",
        "OPS",
        &[Role::ChangeManager, Role::ProblemManager],
        &[],
    ),
    (
        "privacy@operator.example",
        "Priya Privacy",
        "en",
        "OPS",
        &[Role::PrivacyOffice],
        &[],
    ),
    (
        "security@operator.example",
        "Sam Security",
        "en",
        "OPS",
        &[Role::SecurityTeam],
        &[],
    ),
    (
        "signatory@hhs.example",
        "Dr. Helen Hughes",
        "en",
        "HHS",
        &[Role::Signatory],
        &[],
    ),
    (
        "pc@hhs.example",
        "Paul Contact",
        "en",
        "HHS",
        &[Role::PrivacyContact],
        &[TrainingModule::Elearning],
    ),
    (
        "pa@hhs.example",
        "Pat Auditor",
        "en",
        "HHS",
        &[Role::PrivacyAuditor],
        BOTH,
    ),
    (
        "lra@hhs.example",
        "Lee Registrar",
        "en",
        "HHS",
        &[Role::Lra],
        BOTH,
    ),
    (
        "helpdesk@hhs.example",
        "Hana Helpdesk",
        "en",
        "HHS",
        &[Role::LocalHelpDesk],
        &[],
    ),
    (
        "cpc@hhs.example",
        "Casey Point",
        "en",
        "HHS",
        &[Role::Cpc],
        &[],
    ),
    (
        "clinician@hhs.example",
        "Dr. Chen Clinician",
        "en",
        "HHS",
        &[Role::EndUser],
        &[],
    ),
    (
        "helpdesk@niagara.example",
        "Nadia Lefebvre",
        "fr",
        "NHS",
        &[Role::LocalHelpDesk],
        &[],
    ),
    (
        "lra@niagara.example",
        "Noah Registrar",
        "en",
        "NHS",
        &[Role::Lra],
        BOTH,
    ),
    (
        "clinician@niagara.example",
        "Dr. Nora Niagara",
        "en",
        "NHS",
        &[Role::EndUser],
        &[],
    ),
    (
        "clinician@fedclinic.example",
        "Dr. Felix Clinician",
        "en",
        "FEDC",
        &[Role::EndUser],
        &[],
    ),
    (
        "dr.singh@sole.example",
        "Dr. Amelia Singh",
        "en",
        "SOLE",
        &[Role::Signatory, Role::Lra, Role::EndUser],
        BOTH,
    ),
];

fn org(code: &str, en: &str, fr: &str, kind: &str, data: bool, idp: &str) -> OrgInput {
    OrgInput {
        code: code.into(),
        name_en: en.into(),
        name_fr: fr.into(),
        org_type: kind.into(),
        contributes_data: data,
        identity_provider: idp.into(),
        ..Default::default()
    }
}

fn organizations() -> Vec<(OrgInput, &'static [&'static str])> {
    let mut ops = org(
        "OPS",
        "Regional eHealth Operator",
        "Exploitant régional de cybersanté",
        "operator",
        false,
        "operator",
    );
    ops.helpdesk_phone = Some("1-800-555-0100".into());
    ops.helpdesk_email = Some("servicedesk@operator.example".into());
    let mut hhs = org(
        "HHS",
        "Hamilton Health Sciences",
        "Hamilton Health Sciences",
        "hospital",
        true,
        "federated",
    );
    hhs.helpdesk_phone = Some("905-555-0101".into());
    hhs.helpdesk_email = Some("helpdesk@hhs.example".into());
    hhs.escalation_title = Some("IT Manager, Clinical Systems".into());
    hhs.escalation_name = Some("Harriet Hall".into());
    hhs.escalation_email = Some("harriet.hall@hhs.example".into());
    hhs.escalation_mobile = Some("905-555-0199".into());
    hhs.after_hours_contacts = Some("On-call analyst: 905-555-0150 (pager)".into());
    hhs.spoc_name = Some("Casey Point".into());
    hhs.spoc_email = Some("cpc@hhs.example".into());
    hhs.ticket_number_format = Some("INC#######".into());
    hhs.distribution_list = Some("it-notices@hhs.example".into());
    let mut nhs = org(
        "NHS",
        "Niagara Health",
        "Santé Niagara",
        "hospital",
        true,
        "provincial",
    );
    nhs.helpdesk_phone = Some("905-555-0202".into());
    nhs.helpdesk_email = Some("helpdesk@niagara.example".into());
    nhs.ticket_number_format = Some("NH-######".into());
    let mut fedc = org(
        "FEDC",
        "Federated Family Clinic",
        "Clinique familiale fédérée",
        "clinic",
        false,
        "federated",
    );
    fedc.helpdesk_email = Some("it@fedclinic.example".into());
    let sole = org(
        "SOLE",
        "Dr. Amelia Singh (sole practitioner)",
        "Dre Amelia Singh (praticienne seule)",
        "sole_practitioner",
        false,
        "operator",
    );
    let mut lab = org(
        "LAB",
        "Lakeshore Community Lab",
        "Laboratoire communautaire Lakeshore",
        "lab",
        true,
        "operator",
    );
    lab.helpdesk_phone = Some("416-555-0303".into());
    vec![
        (ops, &[][..]),
        (hhs, &["CHR", "FEEDS", "ACCESS"][..]),
        (nhs, &["CHR", "FEEDS"][..]),
        (fedc, &["CHR"][..]),
        (sole, &["CHR", "PWD"][..]),
        (lab, &["FEEDS"][..]),
    ]
}

const SERVICES: &[(&str, &str, &str)] = &[
    (
        "CHR",
        "Community Health Record viewer",
        "Visualiseur du dossier de santé communautaire",
    ),
    ("FEEDS", "Data feeds", "Flux de données"),
    (
        "ACCESS",
        "Access governance tool",
        "Outil de gouvernance des accès",
    ),
    (
        "PWD",
        "Self-service password tool",
        "Outil libre-service de mots de passe",
    ),
];

const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];

fn hours(weekday: &str, weekend: &str, holiday: &str) -> String {
    let mut lines: Vec<String> = WEEKDAYS.iter().map(|d| format!("{d} {weekday}")).collect();
    lines.push(format!("sat {weekend}"));
    lines.push(format!("sun {weekend}"));
    lines.push(format!("holiday {holiday}"));
    lines.join("\n")
}

/// (code, EN, FR, calendar name, weekday, weekend, holiday)
const GROUPS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "SD",
        "Service desk (tier 1)",
        "Service de dépannage (niveau 1)",
        "Service desk hours",
        "07:00-23:00",
        "08:00-16:00",
        "08:00-16:00",
    ),
    (
        "T2",
        "Tier 2 application support",
        "Soutien applicatif de niveau 2",
        "Business hours 08-17",
        "08:00-17:00",
        "closed",
        "closed",
    ),
    (
        "LRA",
        "LRA & access support",
        "Soutien aux ALE et aux accès",
        "Business hours 08-16",
        "08:00-16:00",
        "closed",
        "closed",
    ),
    (
        "PRIV",
        "Privacy office",
        "Bureau de la protection de la vie privée",
        "Business hours 08:30-16:30",
        "08:30-16:30",
        "closed",
        "closed",
    ),
    (
        "SEC",
        "Security team",
        "Équipe de sécurité",
        "24x7",
        "24h",
        "24h",
        "24h",
    ),
    (
        "VEND",
        "Vendor support",
        "Soutien du fournisseur",
        "Business hours 08-17",
        "08:00-17:00",
        "closed",
        "closed",
    ),
];

/// Loads the demo data when there is no organization yet. Returns whether it loaded.
pub async fn load_if_empty(db: &Db) -> anyhow::Result<bool> {
    let mut conn = db.reader().acquire().await?;
    let existing = store::orgs::list(&mut conn, &domain::policy::OrgScope::All).await?;
    drop(conn);
    if !existing.is_empty() {
        return Ok(false);
    }
    load(db).await?;
    Ok(true)
}

pub async fn load(db: &Db) -> anyhow::Result<()> {
    // One hash for every demo account: they share the demo password, and start-up stays fast.
    let hash = store::passwords::hash(DEMO_PASSWORD.to_owned()).await;
    let mut tx = db.begin().await?;
    let actor = Actor::system("demo");
    let mut service_ids = std::collections::HashMap::new();
    for (code, en, fr) in SERVICES {
        service_ids.insert(
            *code,
            store::orgs::create_service(&mut tx, code, en, fr).await?,
        );
    }
    let mut org_ids = std::collections::HashMap::new();
    for (input, services) in organizations() {
        let fields = input
            .validate()
            .with_context(|| format!("demo organization {}", input.code))?;
        let id = store::orgs::create(&mut tx, &fields, input.org_type == "operator").await?;
        let ids: Vec<i64> = services.iter().map(|s| service_ids[s]).collect();
        store::orgs::set_services(&mut tx, id, &ids).await?;
        org_ids.insert(fields.code.clone(), id);
    }
    let mut group_ids = std::collections::HashMap::new();
    let mut calendars = std::collections::HashMap::new();
    for (code, en, fr, calendar, weekday, weekend, holiday) in GROUPS {
        let calendar_id = match calendars.get(calendar) {
            Some(id) => *id,
            None => {
                let id = store::groups::create_calendar(
                    &mut tx,
                    calendar,
                    "America/Toronto",
                    &hours(weekday, weekend, holiday),
                    "ontario",
                )
                .await?;
                calendars.insert(*calendar, id);
                id
            }
        };
        group_ids.insert(
            *code,
            store::groups::create_group(&mut tx, code, en, fr, calendar_id, None).await?,
        );
    }
    for (email, name, locale, org_code, roles, trainings) in PEOPLE {
        let org_id = org_ids[*org_code];
        let fields = validate_person(email, name, None, locale)?;
        let person = store::people::create(&mut tx, org_id, &fields, Some(&hash)).await?;
        for module in *trainings {
            store::people::record_training(&mut tx, person, *module, "2026-01-15", None).await?;
        }
        for role in *roles {
            store::people::grant_role(&mut tx, person, org_id, *role, None).await?;
        }
        let group = match roles.first() {
            Some(Role::AgentTier1 | Role::GroupLead) => Some("SD"),
            Some(Role::AgentTier2) => Some("T2"),
            Some(Role::PrivacyOffice) => Some("PRIV"),
            Some(Role::SecurityTeam) => Some("SEC"),
            _ => None,
        };
        if let Some(group) = group {
            store::groups::add_member(&mut tx, group_ids[group], person).await?;
        }
    }
    store::groups::set_tier(&mut tx, group_ids["T2"], 2).await?;
    store::groups::set_tier(&mut tx, group_ids["VEND"], 3).await?;
    let catalogue: store::catalogue::CatalogueFile = serde_json::from_str(CATALOGUE)?;
    store::catalogue::import(&mut tx, &catalogue).await?;
    for canned in canned_responses() {
        store::catalogue::save_canned_response(&mut tx, &canned).await?;
    }
    demo_tickets(&mut tx, db.backend(), &org_ids).await?;
    let upcoming_maintenance = demo_status_page(&mut tx, &service_ids, &org_ids).await?;
    demo_configuration_items(&mut tx, &service_ids, &org_ids).await?;
    demo_problems(&mut tx, db.backend(), &org_ids, group_ids["T2"]).await?;
    let major_incident = demo_major_incident(&mut tx, db.backend(), &org_ids).await?;
    demo_problem_trend(&mut tx, db.backend(), &org_ids).await?;
    demo_changes(&mut tx, db.backend(), &org_ids, upcoming_maintenance).await?;
    demo_latent_rfc(&mut tx, db.backend(), &org_ids, major_incident).await?;
    append(
        &mut tx,
        &actor,
        Event {
            action: "demo.load",
            entity_type: "system",
            entity_id: None,
            organization_id: None,
            detail: json!({"organizations": org_ids.len(), "people": PEOPLE.len()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The sign-ins printed at start-up.
pub fn sign_ins() -> String {
    let mut out = format!("Demo sign-ins (password for all: {DEMO_PASSWORD}):\n");
    for (email, _, _, org, roles, _) in PEOPLE {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        out.push_str(&format!("  {email:<30} {org:<5} {}\n", roles.join(", ")));
    }
    out
}

/// The demo request catalogue (the same format `store::catalogue::import` reads).
pub const CATALOGUE: &str = include_str!("../demo/catalogue.json");

fn canned_responses() -> Vec<store::catalogue::CannedResponse> {
    let c = |code: &str, title_en: &str, title_fr: &str, body_en: &str, body_fr: &str| {
        store::catalogue::CannedResponse {
            id: 0,
            code: code.into(),
            title_en: title_en.into(),
            title_fr: title_fr.into(),
            body_en: body_en.into(),
            body_fr: body_fr.into(),
        }
    };
    vec![
        c(
            "acknowledge",
            "We are looking into it",
            "Nous examinons la situation",
            "Thank you for your request. The service desk is looking into it and will update this ticket as soon as we know more.",
            "Merci de votre demande. Le service de dépannage examine la situation et mettra ce billet à jour dès que nous en saurons plus.",
        ),
        c(
            "need-details",
            "We need more details",
            "Il nous faut plus de détails",
            "To continue, please tell us when the problem started, how many users are affected and what you have already tried. Do not include patient information.",
            "Pour poursuivre, veuillez nous indiquer quand le problème a commencé, combien d'utilisateurs sont touchés et ce que vous avez déjà essayé. N'incluez aucun renseignement sur les patients.",
        ),
        c(
            "contact-lra",
            "Please contact your LRA",
            "Veuillez communiquer avec votre ALE",
            "Account and access questions are handled first by your organization's local registration authority (LRA). If your LRA cannot solve it, they will contact us.",
            "Les questions de compte et d'accès sont d'abord traitées par l'autorité locale d'enregistrement (ALE) de votre organisme. Si votre ALE ne peut pas régler la situation, elle communiquera avec nous.",
        ),
        c(
            "resolved-confirm",
            "Resolved: please confirm",
            "Résolu : veuillez confirmer",
            "We believe this is resolved. If the problem comes back, reopen this ticket from the portal within 7 days.",
            "Nous croyons que la situation est réglée. Si le problème revient, rouvrez ce billet à partir du portail dans les 7 jours.",
        ),
    ]
}

/// (organization, reporter, catalogue path, summary, details, kind, impact, urgency, channel)
type DemoTicket = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    domain::ticket::TicketKind,
    i64,
    i64,
    domain::ticket::Channel,
);

/// A few tickets so that the portal and the console are not empty.
async fn demo_tickets(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
) -> anyhow::Result<()> {
    use domain::ticket::{Channel, Draft, TicketKind};
    let policy_pack_id = store::policy_packs::selected(tx).await?.map(|p| p.id);
    let packs = web::sla::Packs::default();
    let samples: [DemoTicket; 5] = [
        (
            "HHS",
            "clinician@hhs.example",
            "CHR/viewer/slow",
            "Viewer very slow since this morning",
            "Opening a patient summary takes more than 30 seconds for everyone in the emergency department.",
            TicketKind::Incident,
            2,
            2,
            Channel::Portal,
        ),
        (
            "HHS",
            "helpdesk@hhs.example",
            "FEEDS/feed-issues/lab-results-missing",
            "Résultats de laboratoire manquants depuis hier",
            "Les résultats du laboratoire ne s'affichent plus dans le visualiseur depuis l'événement de maintenance d'hier soir.",
            TicketKind::Incident,
            3,
            2,
            Channel::Phone,
        ),
        (
            "NHS",
            "clinician@niagara.example",
            "CHR/access/account-locked",
            "Account locked after password change",
            "I changed my password yesterday and now the viewer says my account is locked.",
            TicketKind::Incident,
            4,
            3,
            Channel::Portal,
        ),
        (
            "HHS",
            "lra@hhs.example",
            "ACCESS/accounts/new-account",
            "New accounts for three residents",
            "Please create viewer accounts for three new residents starting on the first of the month.",
            TicketKind::ServiceRequest,
            4,
            4,
            Channel::Portal,
        ),
        (
            "NHS",
            "helpdesk@niagara.example",
            "CHR/general/question",
            "Question about the new results flag",
            "Where can our clinicians see which results are new since their last visit?",
            TicketKind::ServiceRequest,
            4,
            4,
            Channel::Portal,
        ),
    ];
    let actor = Actor::system("demo");
    for (org, reporter, path, summary, details, kind, impact, urgency, channel) in samples {
        let reporter = person_id(tx, reporter).await?;
        let parts: Vec<&str> = path.split('/').collect();
        let sub = store::catalogue::find(tx, parts[0], parts[1], parts[2]).await?;
        let request_type = store::catalogue::request_type(tx, sub.request_type_id).await?;
        let draft = Draft {
            summary: summary.into(),
            details: details.into(),
            impact,
            urgency,
            configuration_item: None,
            first_occurrence: Some(domain::time::now() - jiff::SignedDuration::from_hours(3)),
            service_impact: None,
            user_impact: None,
            troubleshooting: None,
            workaround: None,
            no_workaround: kind == TicketKind::Incident,
            partner_references: if org == "HHS" {
                vec!["HHS-2026-0042".into()]
            } else {
                vec![]
            },
            custom: Vec::new(),
        };
        let priority = match policy_pack_id {
            Some(id) => web::sla::priority_from_pack(
                &*packs
                    .get(tx, id)
                    .await
                    .map_err(|e| anyhow::anyhow!("policy pack: {}", e.code))?,
                kind,
                impact,
                urgency,
            ),
            None => None,
        }
        .unwrap_or_else(|| domain::ticket::default_priority(impact, urgency));
        let new = store::tickets::NewTicket {
            kind,
            organization_id: orgs[org],
            service_id: Some(request_type.service_id),
            subcategory_id: Some(sub.id),
            reporter_id: reporter,
            on_behalf_of_id: None,
            priority,
            draft,
            support_group_id: Some(sub.support_group_id),
            channel,
            policy_pack_id,
            sla: Default::default(),
            created_at: domain::time::now(),
        };
        let reservation = store::tickets::reserve(tx, backend, &[kind]).await?;
        let mut chain = reservation.chain;
        let ticket_id = store::tickets::insert_with_companions(
            tx,
            backend,
            &actor,
            &new,
            &reservation.tickets[0],
            &mut chain,
            &store::tickets::Companions {
                audit_action: "ticket.create",
                audit_detail: json!({"kind": kind.as_str(), "channel": channel.as_str(), "priority": priority}),
                mails: &[],
                job_kind: web::sla::SLA_JOB,
                jobs: &[],
            },
        )
        .await?
        .id;
        web::sla::refresh_with(&packs, tx, ticket_id)
            .await
            .map_err(|e| anyhow::anyhow!("SLA clocks: {}", e.code))?;
    }
    Ok(())
}

async fn person_id(tx: &mut store::Conn, email: &str) -> anyhow::Result<i64> {
    let list = store::people::list(
        tx,
        &domain::policy::OrgScope::All,
        &store::people::PeopleFilter {
            q: Some(email.to_owned()),
            limit: 1,
            ..Default::default()
        },
    )
    .await?;
    list.first()
        .map(|p| p.id)
        .with_context(|| format!("demo person {email}"))
}

/// (code, group, service, source organization, name EN, name FR, description EN, FR)
type DemoComponent = (
    &'static str,
    usize,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// (event, component code, its status, its line EN/FR, the update EN/FR, since how long)
type OpenDemoEvent = (
    i64,
    &'static str,
    &'static str,
    (&'static str, &'static str),
    (&'static str, &'static str),
    jiff::SignedDuration,
);

/// The status page as a new user would want to see it: components in groups, 90 days of
/// history with resolved incidents of each impact and a past maintenance, one incident
/// still open, one maintenance in progress and one next Sunday night.
async fn demo_status_page(
    tx: &mut store::Conn,
    service_ids: &std::collections::HashMap<&str, i64>,
    org_ids: &std::collections::HashMap<String, i64>,
) -> anyhow::Result<i64> {
    use jiff::SignedDuration as D;
    use store::status_page as sp;
    let now = domain::time::now();
    let db = |t: jiff::Timestamp| domain::time::to_db(t);
    let ago = |d: D| db(now - d);
    let days = |n: i64| D::from_hours(24 * n);
    let hours = |n: i64| D::from_hours(n);
    let groups = [
        ("Clinical viewer", "Visualiseur clinique"),
        ("Data exchange", "Échange de données"),
        ("Access and passwords", "Accès et mots de passe"),
    ];
    let mut group_ids = Vec::new();
    for (position, (en, fr)) in groups.iter().enumerate() {
        group_ids.push(sp::insert_group(tx, en, fr, position as i64 + 1).await?);
    }
    let components: [DemoComponent; 8] = [
        (
            "chr-viewer",
            0,
            Some("CHR"),
            None,
            "Community Health Record viewer",
            "Visualiseur du dossier de santé communautaire",
            "The clinical viewer used in hospitals and clinics.",
            "Le visualiseur clinique des hôpitaux et cliniques.",
        ),
        (
            "ccd-query",
            0,
            None,
            None,
            "CCD Query",
            "Requête CCD",
            "Clinical documents on request from partner systems.",
            "Documents cliniques sur demande des systèmes partenaires.",
        ),
        (
            "federated-sign-in",
            0,
            None,
            None,
            "Federated sign-in",
            "Connexion fédérée",
            "Sign-in with a partner organization's account.",
            "Connexion avec le compte d'une organisation partenaire.",
        ),
        (
            "hl7",
            1,
            Some("FEEDS"),
            None,
            "HL7 processing",
            "Traitement HL7",
            "Incoming HL7 feeds from contributing organizations.",
            "Flux HL7 entrants des organisations contributrices.",
        ),
        (
            "direct-messaging",
            1,
            None,
            None,
            "Direct messaging",
            "Messagerie Direct",
            "Secure messages between providers.",
            "Messages sécurisés entre fournisseurs.",
        ),
        (
            "lab-lakeshore",
            1,
            None,
            Some("LAB"),
            "Data from Lakeshore Community Lab",
            "Données du Laboratoire communautaire Lakeshore",
            "Lab results contributed by Lakeshore Community Lab.",
            "Résultats de laboratoire du Laboratoire communautaire Lakeshore.",
        ),
        (
            "access-tool",
            2,
            Some("ACCESS"),
            None,
            "Access governance tool",
            "Outil de gouvernance des accès",
            "Attestations and access reviews.",
            "Attestations et revues des accès.",
        ),
        (
            "password-tool",
            2,
            Some("PWD"),
            None,
            "Self-service password tool",
            "Outil libre-service de mots de passe",
            "Password resets and unlocks.",
            "Réinitialisations et déverrouillages de mots de passe.",
        ),
    ];
    let mut ids = std::collections::HashMap::new();
    for (position, (code, group, service, source, name_en, name_fr, desc_en, desc_fr)) in
        components.iter().enumerate()
    {
        let fields = sp::ComponentFields {
            code,
            group_id: Some(group_ids[*group]),
            service_id: service.map(|s| service_ids[s]),
            source_organization_id: source.map(|o| org_ids[o]),
            name_en,
            name_fr,
            description_en: desc_en,
            description_fr: desc_fr,
            position: position as i64 + 1,
        };
        let id = sp::insert_component(tx, &fields, "operational").await?;
        sp::backdate_component(tx, id, &ago(days(120))).await?;
        ids.insert(*code, id);
    }
    struct Past<'a> {
        kind: &'a str,
        title: (&'a str, &'a str),
        impact: &'a str,
        component: &'a str,
        status: &'a str,
        text: (&'a str, &'a str),
        began: D,
        lasted: D,
        updates: &'a [(&'a str, i64, &'a str, &'a str)],
    }
    let past = [
        Past {
            kind: "incident",
            title: (
                "Community Health Record viewer unavailable",
                "Visualiseur du dossier de santé communautaire indisponible",
            ),
            impact: "critical",
            component: "chr-viewer",
            status: "major_outage",
            text: (
                "The viewer does not load.",
                "Le visualiseur ne se charge pas.",
            ),
            began: days(78) + hours(5),
            lasted: hours(2),
            updates: &[
                (
                    "investigating",
                    0,
                    "Users cannot open the viewer. We are investigating.",
                    "Les utilisateurs ne peuvent pas ouvrir le visualiseur. Nous enquêtons.",
                ),
                (
                    "identified",
                    40,
                    "A failed database node is the cause; failover is under way.",
                    "Un nœud de base de données en panne est en cause; la relève est en cours.",
                ),
                (
                    "monitoring",
                    100,
                    "The viewer is back; we are watching it.",
                    "Le visualiseur est rétabli; nous le surveillons.",
                ),
                (
                    "resolved",
                    120,
                    "Resolved. A review will follow.",
                    "Résolu. Une revue suivra.",
                ),
            ],
        },
        Past {
            kind: "incident",
            title: ("HL7 messages delayed", "Messages HL7 retardés"),
            impact: "major",
            component: "hl7",
            status: "partial_outage",
            text: (
                "Messages are currently queuing.",
                "Les messages sont en file d'attente.",
            ),
            began: days(61) + hours(9),
            lasted: hours(3),
            updates: &[
                (
                    "investigating",
                    0,
                    "Incoming HL7 messages are queuing.",
                    "Les messages HL7 entrants sont en file d'attente.",
                ),
                (
                    "resolved",
                    180,
                    "The queue is drained; all messages were processed.",
                    "La file est vidée; tous les messages ont été traités.",
                ),
            ],
        },
        Past {
            kind: "incident",
            title: (
                "Slow searches in CCD Query",
                "Recherches lentes dans Requête CCD",
            ),
            impact: "minor",
            component: "ccd-query",
            status: "degraded_performance",
            text: (
                "Searches take up to a minute.",
                "Les recherches prennent jusqu'à une minute.",
            ),
            began: days(44) + hours(3),
            lasted: hours(5),
            updates: &[
                (
                    "identified",
                    0,
                    "An index rebuild slows searches.",
                    "La reconstruction d'un index ralentit les recherches.",
                ),
                (
                    "resolved",
                    300,
                    "Searches are back to normal.",
                    "Les recherches sont revenues à la normale.",
                ),
            ],
        },
        Past {
            kind: "incident",
            title: (
                "Password reset emails delayed",
                "Courriels de réinitialisation retardés",
            ),
            impact: "none",
            component: "password-tool",
            status: "degraded_performance",
            text: (
                "Emails arrive up to 20 minutes late.",
                "Les courriels arrivent avec jusqu'à 20 minutes de retard.",
            ),
            began: days(30) + hours(2),
            lasted: hours(1),
            updates: &[
                (
                    "monitoring",
                    0,
                    "Reset emails are slow; resets still work.",
                    "Les courriels sont lents; les réinitialisations fonctionnent.",
                ),
                (
                    "resolved",
                    60,
                    "Emails are on time again.",
                    "Les courriels arrivent de nouveau à temps.",
                ),
            ],
        },
        Past {
            kind: "maintenance",
            title: (
                "Viewer security updates",
                "Mises à jour de sécurité du visualiseur",
            ),
            impact: "maintenance",
            component: "chr-viewer",
            status: "under_maintenance",
            text: (
                "Unavailable during the window.",
                "Indisponible pendant la fenêtre.",
            ),
            began: days(20) + hours(2),
            lasted: hours(3),
            updates: &[
                (
                    "scheduled",
                    -10080,
                    "Security updates on Sunday night.",
                    "Mises à jour de sécurité dimanche soir.",
                ),
                (
                    "in_progress",
                    0,
                    "The maintenance has started.",
                    "La maintenance a commencé.",
                ),
                (
                    "completed",
                    180,
                    "The maintenance is completed.",
                    "La maintenance est terminée.",
                ),
            ],
        },
        Past {
            kind: "incident",
            title: (
                "Federated sign-in failures for some organizations",
                "Échecs de connexion fédérée pour certaines organisations",
            ),
            impact: "major",
            component: "federated-sign-in",
            status: "partial_outage",
            text: (
                "Some organizations cannot sign in.",
                "Certaines organisations ne peuvent pas se connecter.",
            ),
            began: days(12) + hours(14),
            lasted: D::from_mins(90),
            updates: &[
                (
                    "investigating",
                    0,
                    "Sign-in fails for two organizations.",
                    "La connexion échoue pour deux organisations.",
                ),
                (
                    "identified",
                    30,
                    "An expired certificate at the identity provider.",
                    "Un certificat expiré chez le fournisseur d'identité.",
                ),
                (
                    "resolved",
                    90,
                    "The certificate was renewed.",
                    "Le certificat a été renouvelé.",
                ),
            ],
        },
    ];
    for p in &past {
        let start = now - p.began;
        let end = start + p.lasted;
        let maintenance = p.kind == "maintenance";
        let id = sp::insert_event(
            tx,
            &sp::NewEvent {
                kind: p.kind,
                title_en: p.title.0,
                title_fr: p.title.1,
                impact: p.impact,
                status: if maintenance {
                    "scheduled"
                } else {
                    "investigating"
                },
                ticket_id: None,
                scheduled_for: maintenance.then(|| db(start)).as_deref(),
                scheduled_until: maintenance.then(|| db(end)).as_deref(),
                auto_transition: true,
                next_update_by: None,
                created_by: None,
                created_at: &db(start - if maintenance { days(7) } else { D::ZERO }),
            },
        )
        .await?;
        let component = ids[p.component];
        sp::set_affected(
            tx,
            id,
            &[sp::Affected {
                event_id: id,
                component_id: component,
                status: p.status.into(),
                text_en: p.text.0.into(),
                text_fr: p.text.1.into(),
            }],
        )
        .await?;
        for (status, minutes, en, fr) in p.updates {
            sp::insert_update(
                tx,
                &sp::NewUpdate {
                    event_id: id,
                    status,
                    body_en: en,
                    body_fr: fr,
                    next_update_by: None,
                    created_at: &db(start + D::from_mins(*minutes)),
                    created_by: None,
                },
            )
            .await?;
        }
        let last = p.updates.last().map(|u| u.0).unwrap_or("resolved");
        sp::change_event(
            tx,
            id,
            &sp::EventChange {
                status: last,
                impact: p.impact,
                next_update_by: None,
                at: &db(end),
                started: maintenance,
                resolved: true,
            },
        )
        .await?;
        sp::record_past_change(tx, component, p.status, &db(start), Some(id)).await?;
        sp::record_past_change(tx, component, "operational", &db(end), Some(id)).await?;
    }
    // Open now: an incident on a partner's source of data, a maintenance in progress, and
    // one next Sunday night.
    let open_incident = sp::insert_event(
        tx,
        &sp::NewEvent {
            kind: "incident",
            title_en: "Lab results from Lakeshore Community Lab delayed",
            title_fr: "Résultats du Laboratoire communautaire Lakeshore retardés",
            impact: "minor",
            status: "identified",
            ticket_id: None,
            scheduled_for: None,
            scheduled_until: None,
            auto_transition: false,
            next_update_by: Some(&db(now + hours(1))),
            created_by: None,
            created_at: &ago(D::from_mins(40)),
        },
    )
    .await?;
    let in_progress = sp::insert_event(
        tx,
        &sp::NewEvent {
            kind: "maintenance",
            title_en: "Direct messaging upgrade",
            title_fr: "Mise à niveau de la messagerie Direct",
            impact: "maintenance",
            status: "in_progress",
            ticket_id: None,
            scheduled_for: Some(&ago(hours(1))),
            scheduled_until: Some(&db(now + hours(2))),
            auto_transition: true,
            next_update_by: None,
            created_by: None,
            created_at: &ago(days(9)),
        },
    )
    .await?;
    let toronto = jiff::tz::TimeZone::get("America/Toronto")?;
    let today = now.to_zoned(toronto.clone()).date();
    let mut sunday = today.tomorrow()?;
    while sunday.weekday() != jiff::civil::Weekday::Sunday || sunday.since(today)?.get_days() < 3 {
        sunday = sunday.tomorrow()?;
    }
    let upcoming_start = sunday.at(0, 0, 0, 0).to_zoned(toronto.clone())?.timestamp();
    let upcoming = sp::insert_event(
        tx,
        &sp::NewEvent {
            kind: "maintenance",
            title_en: "Community Health Record viewer upgrade",
            title_fr: "Mise à niveau du visualiseur du dossier de santé communautaire",
            impact: "maintenance",
            status: "scheduled",
            ticket_id: None,
            scheduled_for: Some(&db(upcoming_start)),
            scheduled_until: Some(&db(upcoming_start + hours(4))),
            auto_transition: true,
            next_update_by: None,
            created_by: None,
            created_at: &ago(days(2)),
        },
    )
    .await?;
    let open: [OpenDemoEvent; 3] = [
        (
            open_incident,
            "lab-lakeshore",
            "degraded_performance",
            (
                "Results arrive up to two hours late.",
                "Les résultats arrivent avec jusqu'à deux heures de retard.",
            ),
            (
                "The lab's interface engine is slow; the lab is working on it. Results will arrive late.",
                "Le moteur d'interface du laboratoire est lent; le laboratoire s'en occupe. Les résultats arriveront en retard.",
            ),
            D::from_mins(40),
        ),
        (
            in_progress,
            "direct-messaging",
            "under_maintenance",
            (
                "Messages wait until the end of the window.",
                "Les messages attendent la fin de la fenêtre.",
            ),
            (
                "The upgrade has started. Messages sent meanwhile are delivered afterwards.",
                "La mise à niveau a commencé. Les messages envoyés entre-temps seront livrés ensuite.",
            ),
            hours(1),
        ),
        (
            upcoming,
            "chr-viewer",
            "under_maintenance",
            (
                "Unavailable during the window.",
                "Indisponible pendant la fenêtre.",
            ),
            (
                "The viewer will be upgraded to the new release; it is unavailable during the window.",
                "Le visualiseur passera à la nouvelle version; il sera indisponible pendant la fenêtre.",
            ),
            days(2),
        ),
    ];
    for (event, code, status, text, body, since) in open {
        let component = ids[code];
        sp::set_affected(
            tx,
            event,
            &[sp::Affected {
                event_id: event,
                component_id: component,
                status: status.into(),
                text_en: text.0.into(),
                text_fr: text.1.into(),
            }],
        )
        .await?;
        let event_row = sp::event(tx, event).await?;
        sp::insert_update(
            tx,
            &sp::NewUpdate {
                event_id: event,
                status: &event_row.status,
                body_en: body.0,
                body_fr: body.1,
                next_update_by: event_row.next_update_by.as_deref(),
                created_at: &ago(since),
                created_by: None,
            },
        )
        .await?;
        if event != upcoming {
            sp::set_component_status(tx, component, status, &ago(since), Some(event)).await?;
            if event == in_progress {
                sp::change_event(
                    tx,
                    event,
                    &sp::EventChange {
                        status: "in_progress",
                        impact: "maintenance",
                        next_update_by: None,
                        at: &ago(since),
                        started: true,
                        resolved: false,
                    },
                )
                .await?;
            }
        }
        // The notices of the demo's past are taken as sent.
        sp::record_notice(tx, event, "scheduled", 0).await?;
        sp::record_notice(tx, event, "before:7d", 0).await?;
    }
    sp::bump(tx).await?;
    Ok(upcoming)
}

/// (code, kind, name EN, name FR, service, owner, environment, site)
type DemoItem = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// A few configuration items behind the demo's services, and how they depend on each other.
async fn demo_configuration_items(
    tx: &mut store::Conn,
    service_ids: &std::collections::HashMap<&str, i64>,
    org_ids: &std::collections::HashMap<String, i64>,
) -> anyhow::Result<()> {
    use store::cmdb::{Fields, add_relation, insert};
    let expiry =
        domain::time::to_db(domain::time::now() + jiff::SignedDuration::from_hours(24 * 40));
    let items: [DemoItem; 8] = [
        (
            "chr-viewer-app",
            "application",
            "Community Health Record viewer",
            "Visualiseur du dossier de santé communautaire",
            Some("CHR"),
            "OPS",
            Some("production"),
            Some("Primary data centre"),
        ),
        (
            "hl7-engine",
            "interface",
            "HL7 interface engine",
            "Moteur d'interface HL7",
            Some("FEEDS"),
            "OPS",
            Some("production"),
            Some("Primary data centre"),
        ),
        (
            "lab-hl7-feed",
            "interface",
            "Lakeshore lab results feed",
            "Flux de résultats du laboratoire Lakeshore",
            Some("FEEDS"),
            "LAB",
            Some("production"),
            None,
        ),
        (
            "vpn-lakeshore",
            "network_connection",
            "VPN to Lakeshore Community Lab",
            "RPV vers le Laboratoire communautaire Lakeshore",
            None,
            "LAB",
            Some("production"),
            None,
        ),
        (
            "cert-viewer-tls",
            "certificate",
            "Viewer TLS certificate",
            "Certificat TLS du visualiseur",
            Some("CHR"),
            "OPS",
            Some("production"),
            None,
        ),
        (
            "app-server-01",
            "server",
            "Application server 01",
            "Serveur d'applications 01",
            None,
            "OPS",
            Some("production"),
            Some("Primary data centre"),
        ),
        (
            "production",
            "environment",
            "Production",
            "Production",
            None,
            "OPS",
            None,
            None,
        ),
        (
            "dc-primary",
            "site",
            "Primary data centre",
            "Centre de données principal",
            None,
            "OPS",
            None,
            None,
        ),
    ];
    let mut ids = std::collections::HashMap::new();
    for (code, kind, name_en, name_fr, service, owner, environment, site) in items {
        let id = insert(
            tx,
            &Fields {
                code,
                kind,
                name_en,
                name_fr,
                description: "",
                service_id: service.map(|s| service_ids[s]),
                owner_organization_id: Some(org_ids[owner]),
                environment,
                site,
                status: "active",
                expires_at: (kind == "certificate").then_some(expiry.as_str()),
            },
        )
        .await?;
        ids.insert(code, id);
    }
    for (from, kind, to) in [
        ("chr-viewer-app", "runs_on", "app-server-01"),
        ("chr-viewer-app", "depends_on", "hl7-engine"),
        ("chr-viewer-app", "depends_on", "cert-viewer-tls"),
        ("hl7-engine", "runs_on", "app-server-01"),
        ("lab-hl7-feed", "connects_to", "hl7-engine"),
        ("lab-hl7-feed", "depends_on", "vpn-lakeshore"),
        ("app-server-01", "part_of", "dc-primary"),
        ("app-server-01", "part_of", "production"),
    ] {
        add_relation(tx, ids[from], ids[to], kind).await?;
    }
    Ok(())
}

/// (organization, summary, description, impact, CMDB codes, incident linked, status, root
/// cause, workaround)
type DemoProblem = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    domain::problem::ProblemStatus,
    Option<&'static str>,
    Option<&'static str>,
);

/// Problems behind the demo incidents (one a known error of the HL7 feed), and this month's
/// problem review with Hamilton Health Sciences.
async fn demo_problems(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
    investigating_group: i64,
) -> anyhow::Result<()> {
    use domain::problem::ProblemStatus;
    use domain::ticket::{Channel, Draft, TicketKind};
    let problems: [DemoProblem; 3] = [
        (
            "HHS",
            "Lakeshore lab results feed times out overnight",
            "Lab results from Lakeshore Community Lab stop reaching the viewer after the nightly maintenance window; the HL7 engine logs connection timeouts on the Lakeshore channel.",
            "Clinicians do not see overnight lab results until the feed catches up, sometimes hours later.",
            &["lab-hl7-feed", "hl7-engine"],
            "INC-000002",
            ProblemStatus::Investigation,
            None,
            Some(
                "Restart the Lakeshore channel on the HL7 engine; the results queued at the lab are then delivered within minutes.",
            ),
        ),
        (
            "HHS",
            "Viewer slow for the emergency department on weekday mornings",
            "Opening a patient summary takes more than 30 seconds between 08:00 and 10:00 on weekdays.",
            "The emergency department works without the summary during its busiest hours.",
            &["chr-viewer-app"],
            "INC-000001",
            ProblemStatus::Assignment,
            None,
            None,
        ),
        (
            "NHS",
            "Accounts locked after a password change",
            "Accounts are locked on the first sign-in after a password change.",
            "Clinicians cannot sign in until the help desk unlocks them.",
            &["chr-viewer-app"],
            "INC-000003",
            ProblemStatus::Resolution,
            Some("The identity provider replays the old password from a cached session."),
            None,
        ),
    ];
    let actor = Actor::system("demo");
    let reporter = person_id(tx, "agent2@operator.example").await?;
    let now = domain::time::to_db(domain::time::now());
    for (org, summary, description, impact, items, incident, status, root_cause, workaround) in
        problems
    {
        let new = store::tickets::NewTicket {
            kind: TicketKind::Problem,
            organization_id: orgs[org],
            service_id: None,
            subcategory_id: None,
            reporter_id: reporter,
            on_behalf_of_id: None,
            priority: 2,
            draft: Draft {
                summary: summary.into(),
                details: description.into(),
                impact: 2,
                urgency: 2,
                configuration_item: items.first().map(|c| c.to_string()),
                first_occurrence: None,
                service_impact: Some(impact.into()),
                user_impact: None,
                troubleshooting: None,
                workaround: None,
                no_workaround: false,
                partner_references: Vec::new(),
                custom: Vec::new(),
            },
            support_group_id: Some(investigating_group),
            channel: Channel::Api,
            policy_pack_id: None,
            sla: Default::default(),
            created_at: domain::time::now(),
        };
        let reservation = store::tickets::reserve(tx, backend, &[TicketKind::Problem]).await?;
        let mut chain = reservation.chain;
        let ticket = store::tickets::insert_with_companions(
            tx,
            backend,
            &actor,
            &new,
            &reservation.tickets[0],
            &mut chain,
            &store::tickets::Companions {
                audit_action: "ticket.create",
                audit_detail: json!({"kind": "problem", "channel": "api", "priority": 2}),
                mails: &[],
                job_kind: web::sla::SLA_JOB,
                jobs: &[],
            },
        )
        .await?
        .id;
        let ticket_status = domain::problem_record::ticket_status(status);
        store::tickets::update_columns(
            tx,
            ticket,
            1,
            &[
                (
                    "status",
                    store::tickets::ColumnValue::Text(Some(ticket_status.as_str().into())),
                ),
                (
                    "is_open",
                    store::tickets::ColumnValue::Int(Some(ticket_status.is_open() as i64)),
                ),
            ],
        )
        .await?;
        let spoc = match org {
            "HHS" => Some(person_id(tx, "cpc@hhs.example").await?),
            _ => Some(person_id(tx, "lra@niagara.example").await?),
        };
        let known_error = domain::problem::is_known_error(root_cause, workaround);
        store::problems::insert(
            tx,
            &store::problems::Record {
                ticket_id: ticket,
                status: status.as_str().into(),
                source: "manual".into(),
                submitter_role: "agent_tier2".into(),
                submitted_at: now.clone(),
                impact_description: impact.into(),
                workaround: workaround.map(str::to_owned),
                action_plan: None,
                root_cause: root_cause.map(str::to_owned),
                resolution: None,
                investigating_group_id: Some(investigating_group),
                category: if org == "NHS" {
                    "security"
                } else {
                    "interface"
                }
                .into(),
                known_error: known_error as i64,
                known_error_since: known_error.then(|| now.clone()),
                verified_by: None,
                verified_at: None,
                verification_outcome: None,
                verification_notes: None,
                spoc_person_id: spoc,
                closure_acknowledged_by: None,
                closure_acknowledged_at: None,
                created_at: now.clone(),
                updated_at: now.clone(),
            },
        )
        .await?;
        if let Some(spoc) = spoc {
            store::tickets::add_person(tx, ticket, spoc, "spoc").await?;
        }
        for code in items {
            if let Some(item) = store::problems::item_id_by_code(tx, code).await? {
                store::problems::add_item(tx, ticket, item).await?;
            }
        }
        if let Some(incident) = store::tickets::id_by_number(tx, incident).await? {
            store::tickets::add_link(tx, incident, ticket, domain::ticket::LinkKind::CausedBy)
                .await?;
            // The incident names its configuration item as the problem does.
            let item = store::problems::item_id_by_code(tx, items[0])
                .await?
                .context("demo configuration item")?;
            store::problems::add_item(tx, incident, item).await?;
        }
    }
    let month = domain::time::now()
        .to_zoned(jiff::tz::TimeZone::get("America/Toronto")?)
        .strftime("%Y-%m")
        .to_string();
    let meeting =
        domain::time::to_db(domain::time::now() + jiff::SignedDuration::from_hours(24 * 7));
    let review =
        store::problems::insert_review(tx, orgs["HHS"], &month, Some(&meeting), Some(reporter))
            .await?;
    store::problems::insert_action(
        tx,
        review,
        "Send the Lakeshore channel's timeout log for the last two weeks",
        "Casey Point (HHS)",
        None,
    )
    .await?;
    Ok(())
}

/// What a demo incident from the past is raised with.
struct PastIncident<'a> {
    organization: &'a str,
    reporter: &'a str,
    catalogue_path: &'a str,
    summary: &'a str,
    details: &'a str,
    impact: i64,
    urgency: i64,
    configuration_item: &'a str,
    channel: domain::ticket::Channel,
    created_at: jiff::Timestamp,
}

/// Raises an incident as it was raised at `created_at`, without SLA clocks (it is in the
/// past); returns its id, number and priority.
async fn raise_past_incident(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
    incident: &PastIncident<'_>,
) -> anyhow::Result<(i64, String, i64)> {
    use domain::ticket::{Draft, TicketKind};
    let kind = TicketKind::Incident;
    let reporter = person_id(tx, incident.reporter).await?;
    let parts: Vec<&str> = incident.catalogue_path.split('/').collect();
    let sub = store::catalogue::find(tx, parts[0], parts[1], parts[2]).await?;
    let request_type = store::catalogue::request_type(tx, sub.request_type_id).await?;
    let policy_pack_id = store::policy_packs::selected(tx).await?.map(|p| p.id);
    let packs = web::sla::Packs::default();
    let priority = match policy_pack_id {
        Some(id) => web::sla::priority_from_pack(
            &*packs
                .get(tx, id)
                .await
                .map_err(|e| anyhow::anyhow!("policy pack: {}", e.code))?,
            kind,
            incident.impact,
            incident.urgency,
        ),
        None => None,
    }
    .unwrap_or_else(|| domain::ticket::default_priority(incident.impact, incident.urgency));
    let new = store::tickets::NewTicket {
        kind,
        organization_id: orgs[incident.organization],
        service_id: Some(request_type.service_id),
        subcategory_id: Some(sub.id),
        reporter_id: reporter,
        on_behalf_of_id: None,
        priority,
        draft: Draft {
            summary: incident.summary.into(),
            details: incident.details.into(),
            impact: incident.impact,
            urgency: incident.urgency,
            configuration_item: Some(incident.configuration_item.into()),
            first_occurrence: Some(incident.created_at - jiff::SignedDuration::from_mins(20)),
            service_impact: None,
            user_impact: None,
            troubleshooting: None,
            workaround: None,
            no_workaround: true,
            partner_references: Vec::new(),
            custom: Vec::new(),
        },
        support_group_id: Some(sub.support_group_id),
        channel: incident.channel,
        policy_pack_id,
        sla: Default::default(),
        created_at: incident.created_at,
    };
    let reservation = store::tickets::reserve(tx, backend, &[kind]).await?;
    let number = reservation.tickets[0].number.clone();
    let mut chain = reservation.chain;
    let id = store::tickets::insert_with_companions(
        tx,
        backend,
        &Actor::system("demo"),
        &new,
        &reservation.tickets[0],
        &mut chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail: json!({"kind": kind.as_str(), "channel": incident.channel.as_str(), "priority": priority}),
            mails: &[],
            job_kind: web::sla::SLA_JOB,
            jobs: &[],
        },
    )
    .await?
    .id;
    if let Some(item) = store::problems::item_id_by_code(tx, incident.configuration_item).await? {
        store::problems::add_item(tx, id, item).await?;
    }
    Ok((id, number, priority))
}

/// The keys and times (after the declaration) of the first two updates on the cadence of
/// the ticket's pack for `priority`: `+1h` and `+2h` under the severity pack, `update:1` and
/// `update:2` (hourly) under the priority pack.
async fn first_updates(
    tx: &mut store::Conn,
    priority: i64,
) -> anyhow::Result<[(String, jiff::SignedDuration); 2]> {
    let duties = match store::policy_packs::selected(tx).await?.map(|p| p.id) {
        Some(id) => web::sla::Packs::default()
            .get(tx, id)
            .await
            .map_err(|e| anyhow::anyhow!("policy pack: {}", e.code))?
            .targets_of(domain::policy_pack::SlaFamily::Incident)
            .find(|t| {
                t.code
                    .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                    .parse::<i64>()
                    .ok()
                    == Some(priority)
            })
            .map(|t| t.communications.clone())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let plan = domain::major_incident::CommunicationPlan::from_duties(&duties);
    let update = |rank: usize| match plan.timed_updates.get(rank - 1) {
        Some(timed) => (timed.key.clone(), timed.after),
        None => {
            let last = plan
                .timed_updates
                .last()
                .map_or(jiff::SignedDuration::ZERO, |t| t.after);
            let steps = (rank - plan.timed_updates.len()) as i32;
            (
                format!("update:{rank}"),
                last + plan.continuing_interval * steps,
            )
        }
    };
    Ok([update(1), update(2)])
}

/// A major incident resolved four days ago, as the desk left it: the Sev 1 of the
/// participation guide ("production unavailable across multiple organizations, no
/// workaround"), declared with its coordinator and bridge, its interruption, update and
/// restoration notices sent, the root cause found, the review held and the report released.
/// Nothing is left due, so the runner sends nothing when the demo starts.
async fn demo_major_incident(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
) -> anyhow::Result<(i64, jiff::Timestamp)> {
    use domain::ticket::Channel;
    let at = |t: jiff::Timestamp| domain::time::to_db(t);
    let mins = jiff::SignedDuration::from_mins;
    let created = domain::time::now() - jiff::SignedDuration::from_hours(24 * 4 + 3);
    let (ticket, number, priority) = raise_past_incident(
        tx,
        backend,
        orgs,
        &PastIncident {
            organization: "HHS",
            reporter: "helpdesk@hhs.example",
            catalogue_path: "CHR/viewer/unavailable",
            summary: "Viewer unavailable at every organization",
            details: "Since 06:00 the viewer answers with a certificate error at every participating organization, in the browser and in the EMR launch. No workaround.",
            impact: 1,
            urgency: 1,
            configuration_item: "cert-viewer-tls",
            channel: Channel::Phone,
            created_at: created,
        },
    )
    .await?;
    let agent = person_id(tx, "agent2@operator.example").await?;
    let coordinator = person_id(tx, "lead@operator.example").await?;
    let agent_actor = Actor {
        person_id: Some(agent),
        label: "Jordan Tier-Two".into(),
        ip: None,
    };
    let coordinator_actor = Actor {
        person_id: Some(coordinator),
        label: "Morgan Lead".into(),
        ip: None,
    };
    let declared = created + mins(12);
    let resolved = declared + mins(160);
    let root_cause = "The viewer's TLS certificate expired at 06:00: the renewed certificate had been received from the certificate authority but not installed on the load balancer. The renewed certificate was installed and the viewer's sessions restarted; a renewal check now runs 30 days before expiry.";
    let bridge =
        "Bridge 1-855-555-0143, access code 7720#; web meeting in the desk's calendar invitation";

    store::tickets::add_event_at(
        tx,
        ticket,
        &at(created + mins(4)),
        &agent_actor,
        "status",
        false,
        None,
        json!({"from": "new", "to": "in_progress", "reason": "Confirmed with two organizations: certificate error on every viewer page."}),
    )
    .await?;
    store::major_incidents::insert(
        tx,
        &store::major_incidents::Declaration {
            ticket_id: ticket,
            declared_at: &at(declared),
            declared_by: agent,
            coordinator_id: coordinator,
            bridge,
            auto_send: true,
        },
    )
    .await?;
    let contacts = [
        (
            Some(coordinator),
            "Morgan Lead",
            "lead@operator.example",
            Some("en"),
            Some(orgs["OPS"]),
            None,
            "coordinator",
        ),
        (
            None,
            "Harriet Hall",
            "harriet.hall@hhs.example",
            None,
            Some(orgs["HHS"]),
            Some("Hamilton Health Sciences"),
            "escalation_contact",
        ),
        (
            None,
            "Dana Whitfield",
            "support@viewer-vendor.example",
            Some("en"),
            None,
            Some("Viewer vendor, platform support"),
            "vendor_contact",
        ),
    ];
    for (person_id, name, email, locale, organization_id, organization_name, role) in contacts {
        store::major_incidents::add_contact(
            tx,
            ticket,
            &store::major_incidents::NewContact {
                person_id,
                name,
                email: Some(email),
                locale,
                organization_id,
                organization_name,
                role,
            },
        )
        .await?;
    }
    store::tickets::add_event_at(
        tx,
        ticket,
        &at(declared),
        &agent_actor,
        "major_incident_declared",
        true,
        None,
        json!({"coordinator": "Morgan Lead", "bridge": bridge, "engaged": contacts.len()}),
    )
    .await?;

    let [(first_key, first_after), (second_key, second_after)] =
        first_updates(tx, priority).await?;
    let local = |t: jiff::Timestamp| {
        t.to_zoned(jiff::tz::TimeZone::get("America/Toronto").unwrap_or(jiff::tz::TimeZone::UTC))
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let recipients = 7;
    let notices: [SentNotice; 4] = [
        (
            "declaration".to_owned(),
            "service_interruption",
            declared,
            declared + mins(2),
            Some((agent, &agent_actor)),
            format!("[{number}] Service interruption: viewer unavailable"),
            format!("The viewer is unavailable at every participating organization since 06:00 (certificate error). We are working to restore it. Next update by {}.\n\nWorkaround: use your downtime procedures.", local(declared + first_after)),
            format!("[{number}] Interruption de service : visualiseur indisponible"),
            format!("Le visualiseur est indisponible dans toutes les organisations participantes depuis 6 h (erreur de certificat). Nous travaillons à le rétablir. Prochaine mise à jour d'ici {}.\n\nSolution de rechange : appliquez vos procédures de temps d'arrêt.", local(declared + first_after)),
        ),
        (
            first_key,
            "update",
            declared + first_after,
            declared + first_after,
            None,
            format!("[{number}] Update: viewer still unavailable"),
            format!("The viewer is still down. The cause is an expired certificate; the vendor has joined the bridge and we are working to restore the service. Next update within the hour, by {}.", local(declared + second_after)),
            format!("[{number}] Mise à jour : visualiseur toujours indisponible"),
            format!("Le visualiseur est toujours hors service. La cause est un certificat expiré; le fournisseur s'est joint à la conférence et nous travaillons à rétablir le service. Prochaine mise à jour d'ici une heure, à {}.", local(declared + second_after)),
        ),
        (
            second_key,
            "update",
            declared + second_after,
            declared + second_after - mins(3),
            Some((coordinator, &coordinator_actor)),
            format!("[{number}] Update: renewed certificate being installed"),
            format!("Work continues: the renewed certificate is being installed and tested. Next update by {}.", local(declared + second_after + jiff::SignedDuration::from_hours(1))),
            format!("[{number}] Mise à jour : installation du certificat renouvelé"),
            format!("Les travaux se poursuivent : le certificat renouvelé est en cours d'installation et d'essai. Prochaine mise à jour d'ici {}.", local(declared + second_after + jiff::SignedDuration::from_hours(1))),
        ),
        (
            "resolution".to_owned(),
            "service_restoration",
            resolved,
            resolved + mins(1),
            Some((coordinator, &coordinator_actor)),
            format!("[{number}] Service restored: viewer available"),
            "The viewer is available again at every organization since the renewed certificate was installed. Please ask users who still see an error to close and reopen their browser. A review report will follow.".to_owned(),
            format!("[{number}] Service rétabli : visualiseur disponible"),
            "Le visualiseur est de nouveau disponible dans toutes les organisations depuis l'installation du certificat renouvelé. Demandez aux personnes qui voient encore une erreur de fermer et de rouvrir leur navigateur. Un rapport d'examen suivra.".to_owned(),
        ),
    ];
    // The restoration notice goes out in the resolving transaction, after the status change.
    let (before_resolution, restoration) = notices.split_at(3);
    for notice in before_resolution {
        record_notice(tx, ticket, notice, recipients).await?;
    }

    // Resolution: the review by the close of the 2nd business day, the report by the 5th
    // (four days ago: the review two days later, the report the day before "now").
    let review_due = resolved + jiff::SignedDuration::from_hours(48);
    let report_due = resolved + jiff::SignedDuration::from_hours(24 * 5);
    store::tickets::update_columns(
        tx,
        ticket,
        1,
        &[
            (
                "status",
                store::tickets::ColumnValue::Text(Some("resolved".into())),
            ),
            ("is_open", store::tickets::ColumnValue::Int(Some(0))),
            (
                "resolved_at",
                store::tickets::ColumnValue::Text(Some(at(resolved))),
            ),
        ],
    )
    .await?;
    store::tickets::add_event_at(
        tx,
        ticket,
        &at(resolved),
        &coordinator_actor,
        "status",
        false,
        None,
        json!({"from": "in_progress", "to": "resolved", "reason": "Renewed certificate installed; viewer confirmed at three organizations."}),
    )
    .await?;
    store::major_incidents::resolve(
        tx,
        ticket,
        &store::major_incidents::Resolution {
            resolved_at: &at(resolved),
            root_cause_known: true,
            root_cause: Some(root_cause),
            review_due_at: Some(&at(review_due)),
            report_due_at: Some(&at(report_due)),
        },
    )
    .await?;
    store::tickets::add_event_at(
        tx,
        ticket,
        &at(resolved),
        &coordinator_actor,
        "major_incident_resolved",
        true,
        None,
        json!({"root_cause_known": true, "problem": null, "review_due": at(review_due), "report_due": at(report_due)}),
    )
    .await?;
    for notice in restoration {
        record_notice(tx, ticket, notice, recipients).await?;
    }

    let held = resolved + jiff::SignedDuration::from_hours(24 + 2);
    let attendees = "Morgan Lead (incident coordinator)\nJordan Tier-Two (tier 2)\nHarriet Hall (HHS, IT Manager, Clinical Systems)\nDana Whitfield (viewer vendor)";
    let report = format!(
        "# Major incident review: {number}\n\
         \n\
         ## Summary\n\
         - Organization: Hamilton Health Sciences, and every participating organization\n\
         - Declared major: {declared}, coordinator Morgan Lead\n\
         - Resolved: {resolved}, 2 h 40 min after the declaration\n\
         - Root cause: {root_cause}\n\
         \n\
         ## Timeline\n\
         - {created}: reported by the HHS help desk by phone\n\
         - {declared}: declared a major incident; service-interruption notice sent\n\
         - {first}: first update sent; the vendor joins the bridge\n\
         - {second}: second update; renewed certificate being installed\n\
         - {resolved}: viewer available again; service-restoration notice sent\n\
         \n\
         ## Actions\n\
         - Certificate renewals are installed on the day they are received (owner: operations)\n\
         - A renewal check warns 30 days before any certificate in the CMDB expires (owner: operations)\n\
         - Organizations review their downtime procedures for the viewer (owner: each help desk)\n\
         \n\
         ## Review\n\
         - Held {held}\n\
         - Attended: Morgan Lead, Jordan Tier-Two, Harriet Hall (HHS), Dana Whitfield (vendor)\n",
        declared = local(declared),
        resolved = local(resolved),
        created = local(created),
        first = local(declared + first_after),
        second = local(declared + second_after),
        held = local(held),
    );
    domain::major_incident::release_check(&report)
        .map_err(|e| anyhow::anyhow!("demo review report: {}", e.code()))?;
    store::major_incidents::set_review_held(tx, ticket, &at(held)).await?;
    store::major_incident_reports::save_body(tx, ticket, &report, agent).await?;
    store::major_incident_reports::set_review(tx, ticket, &at(held), attendees).await?;
    store::major_incident_reports::release(tx, ticket, coordinator).await?;
    let cpc = person_id(tx, "cpc@hhs.example").await?;
    store::major_incident_reports::request_copy(tx, ticket, cpc, orgs["HHS"]).await?;
    Ok((ticket, created))
}

/// A notice of the demo's major incident: key, kind, due, sent, sent by (person, actor;
/// `None`: automatically), subject and body in English, then in French.
type SentNotice<'a> = (
    String,
    &'static str,
    jiff::Timestamp,
    jiff::Timestamp,
    Option<(i64, &'a Actor)>,
    String,
    String,
    String,
    String,
);

/// Records a notice as sent, and its line on the ticket's timeline.
async fn record_notice(
    tx: &mut store::Conn,
    ticket: i64,
    notice: &SentNotice<'_>,
    recipients: i64,
) -> anyhow::Result<()> {
    let at = |t: jiff::Timestamp| domain::time::to_db(t);
    let system = Actor::system("major-incidents");
    let (key, kind, due, sent, by, subject_en, body_en, subject_fr, body_fr) = notice;
    store::major_incidents::insert_notice(
        tx,
        ticket,
        &store::major_incidents::NewNotice {
            notice_key: key,
            kind,
            due_at: Some(&at(*due)),
            sent_at: &at(*sent),
            sent_by: by.map(|(id, _)| id),
            recipients,
            subject_en,
            body_en,
            subject_fr,
            body_fr,
        },
    )
    .await?;
    store::tickets::add_event_at(
        tx,
        ticket,
        &at(*sent),
        by.map_or(&system, |(_, actor)| actor),
        "major_incident_notice",
        true,
        None,
        json!({"key": key, "kind": kind, "recipients": recipients, "automatic": by.is_none()}),
    )
    .await?;
    Ok(())
}

/// Five lab-feed incidents of the last nine days whose summaries share "lab results
/// delayed", each resolved by restarting the feed, and the problem that detection proposes
/// for them: the proposal is made by the scheduled job's own rules
/// (`domain::problem::detect_trends`, default thresholds), so the job finds it again and
/// keeps it waiting for an agent's decision.
async fn demo_problem_trend(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
) -> anyhow::Result<()> {
    use domain::problem::{IncidentFacts, TrendThresholds, detect_trends};
    use domain::ticket::Channel;
    let now = domain::time::now();
    let incidents = [
        (
            9,
            "helpdesk@hhs.example",
            Channel::Phone,
            "Lab results delayed in the viewer after the overnight run",
        ),
        (
            7,
            "clinician@hhs.example",
            Channel::Portal,
            "Lakeshore lab results delayed again this morning",
        ),
        (
            5,
            "helpdesk@hhs.example",
            Channel::Phone,
            "Lab results delayed for the medicine wards",
        ),
        (
            3,
            "clinician@hhs.example",
            Channel::Portal,
            "Outpatient clinic sees lab results delayed by two hours",
        ),
        (
            1,
            "helpdesk@hhs.example",
            Channel::Phone,
            "Lab results delayed since the early morning",
        ),
    ];
    for (days_ago, reporter, channel, summary) in incidents {
        let created = now - jiff::SignedDuration::from_hours(24 * days_ago + 2);
        let (ticket, _, _) = raise_past_incident(
            tx,
            backend,
            orgs,
            &PastIncident {
                organization: "HHS",
                reporter,
                catalogue_path: "FEEDS/feed-issues/lab-results-missing",
                summary,
                details: "Results from Lakeshore Community Lab reach the viewer hours late; the lab confirms they were sent on time.",
                impact: 3,
                urgency: 2,
                configuration_item: "lab-hl7-feed",
                channel,
                created_at: created,
            },
        )
        .await?;
        let resolved = domain::time::to_db(created + jiff::SignedDuration::from_hours(2));
        store::tickets::update_columns(
            tx,
            ticket,
            1,
            &[
                (
                    "status",
                    store::tickets::ColumnValue::Text(Some("resolved".into())),
                ),
                ("is_open", store::tickets::ColumnValue::Int(Some(0))),
                (
                    "resolved_at",
                    store::tickets::ColumnValue::Text(Some(resolved.clone())),
                ),
            ],
        )
        .await?;
        store::tickets::add_event_at(
            tx,
            ticket,
            &resolved,
            &Actor::system("demo"),
            "status",
            false,
            None,
            json!({"from": "new", "to": "resolved", "reason": "Lakeshore channel restarted on the HL7 engine; the queued results arrived."}),
        )
        .await?;
    }
    let since = now - jiff::SignedDuration::from_hours(24 * 90);
    let rows = store::problem_trends::incidents_since(tx, &domain::time::to_db(since)).await?;
    let facts: Vec<IncidentFacts> = rows
        .iter()
        .filter_map(|row| {
            Some(IncidentFacts {
                id: row.id,
                opened_at: domain::time::from_db(&row.created_at)?,
                configuration_item: row.configuration_item.clone(),
                site: row.site.clone(),
                environment: row.environment.clone(),
                service: row.service_code.clone(),
                summary: row.summary.clone(),
            })
        })
        .collect();
    let trends = detect_trends(&facts, &TrendThresholds::default(), &[]);
    anyhow::ensure!(
        !trends.is_empty(),
        "the demo's lab-feed incidents make a trend"
    );
    for trend in trends {
        store::problem_trends::insert(
            tx,
            &store::problem_trends::NewProposal {
                dimension: trend.dimension.as_str(),
                value: &trend.value,
                value_key: &domain::text::fold(trend.value.trim()),
                incident_ids: &trend.incident_ids,
                shared: &trend.shared,
                shared_text: &trend.shared_text,
                reason_en: &trend.reason_en,
                reason_fr: &trend.reason_fr,
                first_opened_at: &domain::time::to_db(trend.first_opened_at),
                last_opened_at: &domain::time::to_db(trend.last_opened_at),
            },
        )
        .await?;
    }
    Ok(())
}

/// What a demo RFC is raised with.
struct DemoRfc<'a> {
    organization: &'a str,
    reporter: &'a str,
    kind: domain::change::ChangeType,
    origin: domain::change::ChangeOrigin,
    template_id: Option<i64>,
    summary: &'a str,
    description: &'a str,
    reason: &'a str,
    impact: i64,
    urgency: i64,
    risk: &'a str,
    notice_rule: domain::change_schedule::NoticeRule,
    users_affected_how: &'a str,
    outage: Option<(jiff::Timestamp, jiff::Timestamp)>,
    services: &'a [&'a str],
    items: &'a [&'a str],
    requested: (jiff::Timestamp, jiff::Timestamp),
    product_category: &'a str,
    implementer: &'a str,
    implementation_plan: &'a str,
    backout_plan: &'a str,
    partner_approval: &'a str,
    partner_spoc: Option<&'a str>,
    presenter: Option<&'a str>,
    submitted_at: jiff::Timestamp,
}

/// Raises an RFC as it was submitted at `submitted_at`: its change ticket (CHG-), record,
/// services, configuration items and timeline entry. Returns the ticket and its record.
async fn raise_demo_rfc(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
    policy: &domain::change_schedule::ChangePolicy,
    rfc: &DemoRfc<'_>,
) -> anyhow::Result<(store::tickets::Ticket, store::changes::Record)> {
    let actor = Actor::system("demo");
    let at = |t: jiff::Timestamp| domain::time::to_db(t);
    let mut services = Vec::new();
    for code in rfc.services {
        services.push(
            store::changes::service_id_by_code(tx, code)
                .await?
                .with_context(|| format!("demo service {code}"))?,
        );
    }
    let cab = match rfc.kind.needs_cab() {
        true => Some(policy.cab_for(rfc.submitted_at)?),
        false => None,
    };
    let earliest =
        policy.earliest_implementation(rfc.submitted_at, rfc.kind, rfc.impact, rfc.notice_rule)?;
    let users_affected = !rfc.users_affected_how.is_empty();
    let ticket =
        insert_demo_change_ticket(tx, backend, orgs, rfc, services.first().copied()).await?;
    let id = ticket.id;
    let partner = rfc.origin == domain::change::ChangeOrigin::Partner;
    let spoc = match rfc.partner_spoc {
        Some(email) => Some(person_id(tx, email).await?),
        None => None,
    };
    let presenter = match rfc.presenter {
        Some(email) => Some(person_id(tx, email).await?),
        None => None,
    };
    let submitted = at(rfc.submitted_at);
    let record = store::changes::Record {
        ticket_id: id,
        change_type: rfc.kind.as_str().into(),
        status: domain::change::ChangeStatus::Submitted.as_str().into(),
        origin: rfc.origin.as_str().into(),
        template_id: rfc.template_id,
        reason: rfc.reason.into(),
        notice_required: (rfc.notice_rule != domain::change_schedule::NoticeRule::None) as i64,
        notice_rule: rfc.notice_rule.as_str().into(),
        disaster_recovery_exists: 1,
        training_documents_exist: 1,
        tested_in_lower_environments: 1,
        risk: rfc.risk.into(),
        users_affected: users_affected as i64,
        users_affected_how: rfc.users_affected_how.into(),
        outage_required: rfc.outage.is_some() as i64,
        outage_start: rfc.outage.map(|(start, _)| at(start)),
        outage_end: rfc.outage.map(|(_, end)| at(end)),
        requested_start: at(rfc.requested.0),
        requested_end: at(rfc.requested.1),
        product_category: rfc.product_category.into(),
        implementer: rfc.implementer.into(),
        implementation_plan: rfc.implementation_plan.into(),
        backout_plan: rfc.backout_plan.into(),
        partner_approval: if partner {
            rfc.partner_approval.into()
        } else {
            String::new()
        },
        partner_spoc_person_id: spoc,
        presenter_person_id: presenter,
        submitted_at: submitted.clone(),
        cab_date: cab.map(|c| c.date.to_string()),
        earliest_start: Some(at(earliest.at)),
        promotion_path: serde_json::to_string(&domain::change::default_promotion_path())?,
        created_at: submitted.clone(),
        updated_at: submitted,
        ..store::changes::Record::default()
    };
    store::changes::insert(tx, &record).await?;
    for service in services {
        store::changes::add_service(tx, id, service).await?;
    }
    for code in rfc.items {
        let item = store::problems::item_id_by_code(tx, code)
            .await?
            .with_context(|| format!("demo configuration item {code}"))?;
        store::problems::add_item(tx, id, item).await?;
    }
    if let Some(spoc) = spoc {
        store::tickets::add_person(tx, id, spoc, "spoc").await?;
    }
    store::tickets::add_event(
        tx,
        id,
        &actor,
        "change_submitted",
        false,
        None,
        json!({"change_type": record.change_type, "origin": record.origin,
               "cab_date": record.cab_date, "earliest_start": record.earliest_start}),
    )
    .await?;
    Ok((ticket, record))
}

/// The change ticket (CHG-) of a demo RFC, as it was opened at `rfc.submitted_at`.
async fn insert_demo_change_ticket(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
    rfc: &DemoRfc<'_>,
    service_id: Option<i64>,
) -> anyhow::Result<store::tickets::Ticket> {
    use domain::ticket::{Channel, Draft, TicketKind};
    let actor = Actor::system("demo");
    let reporter = person_id(tx, rfc.reporter).await?;
    let new = store::tickets::NewTicket {
        kind: TicketKind::Change,
        organization_id: orgs[rfc.organization],
        service_id,
        subcategory_id: None,
        reporter_id: reporter,
        on_behalf_of_id: None,
        priority: domain::ticket::default_priority(rfc.impact, rfc.urgency),
        draft: Draft {
            summary: rfc.summary.into(),
            details: rfc.description.into(),
            impact: rfc.impact,
            urgency: rfc.urgency,
            configuration_item: rfc.items.first().map(|c| c.to_string()),
            first_occurrence: None,
            service_impact: None,
            user_impact: (!rfc.users_affected_how.is_empty())
                .then(|| rfc.users_affected_how.to_owned()),
            troubleshooting: None,
            workaround: None,
            no_workaround: false,
            partner_references: Vec::new(),
            custom: Vec::new(),
        },
        support_group_id: None,
        channel: match rfc.origin {
            domain::change::ChangeOrigin::Partner => Channel::Portal,
            domain::change::ChangeOrigin::Operator => Channel::Api,
        },
        policy_pack_id: None,
        sla: Default::default(),
        created_at: rfc.submitted_at,
    };
    let reservation = store::tickets::reserve(tx, backend, &[TicketKind::Change]).await?;
    let mut chain = reservation.chain;
    let id = store::tickets::insert_with_companions(
        tx,
        backend,
        &actor,
        &new,
        &reservation.tickets[0],
        &mut chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail: json!({"kind": "change", "priority": new.priority}),
            mails: &[],
            job_kind: web::sla::SLA_JOB,
            jobs: &[],
        },
    )
    .await?
    .id;
    let ticket = store::tickets::get(tx, &web::sla::everything(), id).await?;
    Ok(ticket)
}

/// Records a weekly CAB decision (on an RFC or a template) at a past meeting, its notice
/// already sent so that the runner sends nothing when the demo starts.
async fn past_cab_decision(
    tx: &mut store::Conn,
    meeting: &domain::change_schedule::CabMeeting,
    ticket_id: Option<i64>,
    template_id: Option<i64>,
    decision: &str,
    reasons: &str,
    decided_by: i64,
) -> anyhow::Result<()> {
    let meeting_id = store::changes::ensure_meeting(
        tx,
        "cab",
        &meeting.date.to_string(),
        &domain::time::to_db(meeting.starts_at),
    )
    .await?;
    let id = store::cab::insert_decision(
        tx,
        &store::cab::NewDecision {
            meeting_id,
            ticket_id,
            template_id,
            decision,
            reasons,
            decided_by,
        },
    )
    .await?;
    store::cab::mark_notified(tx, id).await?;
    store::cab::mark_approvals_sent(tx, meeting_id).await?;
    if let Some(ticket_id) = ticket_id {
        store::tickets::add_event(
            tx,
            ticket_id,
            &Actor::system("demo"),
            "cab_decision",
            false,
            None,
            json!({"cab_date": meeting.date.to_string(), "decision": decision, "reasons": reasons}),
        )
        .await?;
    }
    Ok(())
}

/// Change management as a change manager finds it: a standard change template approved at
/// a past CAB and one waiting for the next; two RFCs on the next CAB's agenda that overlap
/// on the HL7 engine (one from Hamilton Health Sciences, with its internal approval, single
/// point of contact and presenter); the viewer upgrade authorized and scheduled in the
/// Sunday window with an outage (the status page's maintenance); one RFC rejected with its
/// reasons; a freeze declared by the operator and one announced by Hamilton Health
/// Sciences, both well ahead.
async fn demo_changes(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
    upcoming_maintenance: i64,
) -> anyhow::Result<()> {
    use domain::change::{ChangeOrigin, ChangeStatus, ChangeType};
    use domain::change_schedule::{ChangePolicy, NoticeRule};
    let policy = match store::policy_packs::selected(tx).await?.map(|p| p.id) {
        Some(id) => web::sla::Packs::default()
            .get(tx, id)
            .await
            .map_err(|e| anyhow::anyhow!("policy pack: {}", e.code))?
            .change_policy()
            .clone(),
        None => ChangePolicy::spec_default(
            domain::calendar::shipped_calendar("business")
                .context("business calendar")?
                .clone(),
        ),
    };
    let zone = policy.calendar.time_zone().clone();
    let now = domain::time::now();
    let days = |n: i64| jiff::SignedDuration::from_hours(24 * n);
    let hours = jiff::SignedDuration::from_hours;
    let actor = Actor::system("demo");
    let manager = person_id(tx, "change@operator.example").await?;
    let past = policy.meetings_between(now - days(35), now - hours(2))?;
    let (Some(last_cab), Some(earlier_cab)) = (past.last(), past.iter().rev().nth(1)) else {
        anyhow::bail!("no past CAB meetings");
    };

    // Standard change templates: one approved at a past CAB, one on the next agenda.
    let template =
        |code: &str, title_en: &str, title_fr: &str, description: &str| store::changes::Template {
            id: 0,
            code: code.into(),
            title_en: title_en.into(),
            title_fr: title_fr.into(),
            service_id: None,
            service_code: None,
            description: description.into(),
            reason: String::new(),
            risk: "low".into(),
            impact: 4,
            urgency: 4,
            product_category: "Infrastructure".into(),
            implementer: "Operator infrastructure team".into(),
            implementation_plan: String::new(),
            backout_plan: String::new(),
            status: "draft".into(),
            approved_at: None,
            approved_by: None,
            approved_cab_date: None,
            created_by: Some(manager),
            created_at: String::new(),
            updated_at: String::new(),
        };
    let mut patching = template(
        "viewer-os-patching",
        "Monthly OS patching of the viewer web servers",
        "Correctifs mensuels du système d'exploitation des serveurs web du visualiseur",
        "Apply the month's operating system security updates to the viewer web servers, one server at a time behind the load balancer.",
    );
    patching.service_id = store::changes::service_id_by_code(tx, "CHR").await?;
    patching.reason = "Keep the viewer web servers on supported, patched software.".into();
    patching.implementation_plan = "1. Drain server 1 from the load balancer. 2. Apply the updates and restart. 3. Check the health page, put it back. 4. Repeat for server 2.".into();
    patching.backout_plan =
        "Uninstall the month's updates from the server and restart it before putting it back."
            .into();
    let patching_id = store::changes::insert_template(tx, &patching).await?;
    store::changes::approve_template(tx, patching_id, manager, &earlier_cab.date.to_string())
        .await?;
    past_cab_decision(
        tx,
        earlier_cab,
        None,
        Some(patching_id),
        "approved",
        "",
        manager,
    )
    .await?;
    let mut certificate = template(
        "hl7-cert-renewal",
        "Yearly renewal of the HL7 engine's TLS certificate",
        "Renouvellement annuel du certificat TLS du moteur HL7",
        "Install the renewed TLS certificate on the HL7 interface engine and restart its listeners.",
    );
    certificate.service_id = store::changes::service_id_by_code(tx, "FEEDS").await?;
    certificate.reason = "The certificate expires every year.".into();
    certificate.implementation_plan =
        "Import the new certificate, switch the listeners to it, restart them one at a time."
            .into();
    certificate.backout_plan =
        "Switch the listeners back to the previous certificate while it is still valid.".into();
    store::changes::insert_template(tx, &certificate).await?;

    // Two RFCs for the coming CAB, both in the same Sunday window on the HL7 engine.
    let submitted = now - hours(2);
    let hl7 = DemoRfc {
        organization: "OPS",
        reporter: "change@operator.example",
        kind: ChangeType::Normal,
        origin: ChangeOrigin::Operator,
        template_id: None,
        summary: "Upgrade the HL7 interface engine to version 5.2",
        description: "Upgrade the HL7 interface engine from 5.1 to 5.2 (vendor support for 5.1 ends this quarter).",
        reason: "Version 5.1 leaves vendor support at the end of the quarter.",
        impact: 2,
        urgency: 3,
        risk: "medium",
        notice_rule: NoticeRule::OperatorToPartners,
        users_affected_how: "Results and reports are queued for up to an hour and delivered afterwards.",
        outage: None,
        services: &["FEEDS"],
        items: &["hl7-engine"],
        requested: (now, now),
        product_category: "Interface engine",
        implementer: "Tier 2 application support",
        implementation_plan: "Stop the inbound channels, back up the engine, install 5.2, replay the queued messages, check each partner's channel.",
        backout_plan: "Restore the 5.1 backup taken before the upgrade and replay the queued messages.",
        partner_approval: "",
        partner_spoc: None,
        presenter: None,
        submitted_at: submitted,
    };
    let hhs_feed = DemoRfc {
        organization: "HHS",
        reporter: "cpc@hhs.example",
        origin: ChangeOrigin::Partner,
        summary: "HHS laboratory system upgrade: new HL7 sending endpoint",
        description: "Hamilton Health Sciences upgrades its laboratory information system; its results feed moves to a new sending endpoint that the HL7 engine must accept.",
        reason: "The laboratory system's vendor ends support for the current version.",
        impact: 3,
        urgency: 3,
        notice_rule: NoticeRule::PartnerToOperator,
        users_affected_how: "HHS lab results reach the viewer up to two hours late during the switch.",
        product_category: "Partner interface",
        implementer: "HHS clinical systems team with Tier 2 application support",
        implementation_plan: "HHS switches its feed to the new endpoint; the operator opens the new endpoint on the HL7 engine and watches the first messages.",
        backout_plan: "HHS switches its feed back to the old endpoint, which stays open for a week.",
        partner_approval: "Approved by the HHS change advisory board (Harriet Hall, IT Manager, Clinical Systems)",
        partner_spoc: Some("cpc@hhs.example"),
        presenter: Some("lead@operator.example"),
        submitted_at: submitted - jiff::SignedDuration::from_mins(20),
        ..hl7
    };
    let ready = [&hl7, &hhs_feed]
        .into_iter()
        .map(|r| {
            policy
                .earliest_implementation(r.submitted_at, r.kind, r.impact, r.notice_rule)
                .map(|e| e.at)
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .max()
        .unwrap_or(now);
    let window = policy.next_window(ready)?.context("a maintenance window")?;
    let requested = (window.starts_at, window.starts_at + hours(3));
    raise_demo_rfc(tx, backend, orgs, &policy, &DemoRfc { requested, ..hl7 }).await?;
    raise_demo_rfc(
        tx,
        backend,
        orgs,
        &policy,
        &DemoRfc {
            requested,
            ..hhs_feed
        },
    )
    .await?;

    // The viewer upgrade: authorized at a past CAB and scheduled in the Sunday window of the
    // status page's maintenance, with an outage.
    let today = now.to_zoned(zone.clone()).date();
    let mut sunday = today.tomorrow()?;
    while sunday.weekday() != jiff::civil::Weekday::Sunday || sunday.since(today)?.get_days() < 3 {
        sunday = sunday.tomorrow()?;
    }
    let start = sunday.at(0, 0, 0, 0).to_zoned(zone.clone())?.timestamp();
    let end = start + hours(4);
    let (viewer, mut record) = raise_demo_rfc(
        tx,
        backend,
        orgs,
        &policy,
        &DemoRfc {
            summary: "Community Health Record viewer upgrade",
            description: "Upgrade the viewer application to the vendor's release 8.4 (new results flag, faster patient summary).",
            reason: "Release 8.4 fixes the slow patient summary and adds the new-results flag clinicians asked for.",
            impact: 2,
            urgency: 3,
            users_affected_how: "The viewer is unavailable at every organization for up to two hours; EMR launches show the maintenance page.",
            outage: Some((start + hours(1), start + hours(3))),
            services: &["CHR"],
            items: &["chr-viewer-app"],
            requested: (start, end),
            product_category: "Viewer application",
            implementer: "Vendor support with Tier 2 application support",
            implementation_plan: "Take the viewer offline, deploy release 8.4 to both application servers, run the smoke tests, bring it back online.",
            backout_plan: "Redeploy release 8.3 from the saved package and restore the database snapshot taken at the start.",
            submitted_at: start - days(35),
            ..hl7
        },
    )
    .await?;
    let viewer_cab = policy.cab_for(start - days(35))?;
    for to in [ChangeStatus::Assessed, ChangeStatus::Authorized] {
        web::changes::apply_move(tx, &actor, &viewer, &mut record, to, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo change: {}", e.code))?;
    }
    past_cab_decision(
        tx,
        &viewer_cab,
        Some(viewer.id),
        None,
        "approved",
        "",
        manager,
    )
    .await?;
    record.scheduled_start = Some(domain::time::to_db(start));
    record.scheduled_end = Some(domain::time::to_db(end));
    web::changes::apply_move(
        tx,
        &actor,
        &viewer,
        &mut record,
        ChangeStatus::Scheduled,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo change: {}", e.code))?;
    store::change_outcomes::set_status_event(tx, viewer.id, upcoming_maintenance).await?;

    // Rejected at the last CAB, with its reasons.
    let rejected_at = last_cab.deadline - days(1);
    let (moved, mut record) = raise_demo_rfc(
        tx,
        backend,
        orgs,
        &policy,
        &DemoRfc {
            summary: "Move the viewer behind the new load balancer on a weekday afternoon",
            description: "Switch the viewer's public address to the new load balancer pair.",
            reason: "The current load balancer leaves vendor support next year.",
            impact: 2,
            urgency: 4,
            users_affected_how: "Sessions open during the switch are lost.",
            services: &["CHR"],
            items: &["chr-viewer-app", "app-server-01"],
            requested: (
                rejected_at + days(20),
                rejected_at + days(20) + hours(2),
            ),
            product_category: "Network",
            implementer: "Operator infrastructure team",
            implementation_plan: "Change the DNS record to the new load balancer and watch the sessions.",
            backout_plan: "Change the DNS record back.",
            submitted_at: rejected_at,
            ..hl7
        },
    )
    .await?;
    let reasons = "Not in a maintenance window during clinic hours, and the back-out relies on DNS caches expiring. Resubmit for a Sunday window with a tested back-out.";
    web::changes::apply_move(
        tx,
        &actor,
        &moved,
        &mut record,
        ChangeStatus::Rejected,
        Some(reasons),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo change: {}", e.code))?;
    let cab = policy.cab_for(rejected_at)?;
    past_cab_decision(tx, &cab, Some(moved.id), None, "rejected", reasons, manager).await?;

    // Freezes, announced well ahead.
    let midnight = |t: jiff::Timestamp| -> anyhow::Result<jiff::Timestamp> {
        Ok(t.to_zoned(zone.clone())
            .date()
            .at(0, 0, 0, 0)
            .to_zoned(zone.clone())?
            .timestamp())
    };
    let operator_start = midnight(now + days(45))?;
    let at = |t: jiff::Timestamp| domain::time::to_db(t);
    store::freezes::insert(
        tx,
        &store::freezes::NewFreeze {
            name: "Regional EHR platform migration freeze",
            reason: "Major deployment: the regional EHR platform moves to the new data centre.",
            starts_at: &at(operator_start),
            ends_at: &at(operator_start + days(14)),
            announced_at: &at(operator_start - days(52)),
            organization_id: None,
            exception_procedure: "Ask the change manager for an exception from the RFC's page; the change manager decides with the service owner.",
            declared_by: manager,
            service_ids: &[],
        },
    )
    .await?;
    let hhs_start = midnight(now + days(70))?;
    let hhs_spoc = person_id(tx, "cpc@hhs.example").await?;
    let feeds = store::changes::service_id_by_code(tx, "FEEDS")
        .await?
        .context("FEEDS")?;
    store::freezes::insert(
        tx,
        &store::freezes::NewFreeze {
            name: "HHS clinical system go-live",
            reason: "Hamilton Health Sciences brings its new clinical information system live; no changes to its feeds.",
            starts_at: &at(hhs_start),
            ends_at: &at(hhs_start + days(10)),
            announced_at: &at(now - days(2)),
            organization_id: Some(orgs["HHS"]),
            exception_procedure: "Call the HHS single point of contact, Casey Point (cpc@hhs.example).",
            declared_by: hhs_spoc,
            service_ids: &[feeds],
        },
    )
    .await?;
    Ok(())
}

/// The emergency repair of the demo's major incident (P1): done first, the new viewer
/// certificate installed an hour and a half after the incident was raised, and its latent
/// RFC filed six hours later, well within the 24 hours.
async fn demo_latent_rfc(
    tx: &mut store::Conn,
    backend: store::Backend,
    orgs: &std::collections::HashMap<String, i64>,
    (incident, raised): (i64, jiff::Timestamp),
) -> anyhow::Result<()> {
    use domain::change::{ChangeOrigin, ChangeType};
    use domain::change_schedule::NoticeRule;
    let at = |t: jiff::Timestamp| domain::time::to_db(t);
    let actor = Actor::system("demo");
    let implemented = raised + jiff::SignedDuration::from_mins(90);
    let filed = implemented + jiff::SignedDuration::from_hours(6);
    let due = domain::change::latent_rfc_due(implemented);
    let repaired = store::tickets::get(tx, &web::sla::everything(), incident).await?;
    let what =
        "Installed the renewed viewer TLS certificate and restarted the viewer's web servers.";
    let rfc = DemoRfc {
        organization: "HHS",
        reporter: "lead@operator.example",
        kind: ChangeType::EmergencyRepair,
        origin: ChangeOrigin::Operator,
        template_id: None,
        summary: "Emergency repair: renewed viewer TLS certificate",
        description: what,
        reason: "The viewer's TLS certificate had expired: the viewer was unavailable at every organization (P1).",
        impact: repaired.impact,
        urgency: repaired.urgency,
        risk: "medium",
        notice_rule: NoticeRule::None,
        users_affected_how: "",
        outage: None,
        services: &[],
        items: &["cert-viewer-tls"],
        requested: (
            implemented,
            implemented + jiff::SignedDuration::from_mins(20),
        ),
        product_category: "Certificates",
        implementer: "Morgan Lead with the operator infrastructure team",
        implementation_plan: "Import the renewed certificate, switch the web servers to it, restart them one at a time, check the viewer from a partner network.",
        backout_plan: "None needed: the expired certificate cannot be used again; restart with the renewed one.",
        partner_approval: "",
        partner_spoc: None,
        presenter: None,
        submitted_at: implemented,
    };
    let ticket = insert_demo_change_ticket(tx, backend, orgs, &rfc, repaired.service_id).await?;
    let services: Vec<i64> = repaired.service_id.into_iter().collect();
    let path = serde_json::to_string(&domain::change::default_promotion_path())?;
    store::change_outcomes::insert_implemented(
        tx,
        &store::change_outcomes::NewImplemented {
            ticket_id: ticket.id,
            change_type: rfc.kind.as_str(),
            origin: rfc.origin.as_str(),
            notice_rule: rfc.notice_rule.as_str(),
            implemented_at: &at(implemented),
            implementer: rfc.implementer,
            promotion_path: &path,
            latent_due_at: Some(&at(due)),
            latent_incident_id: Some(incident),
            outcome: None,
            outcome_notes: None,
            partner_reported: false,
            service_ids: &services,
        },
    )
    .await?;
    let item = store::problems::item_id_by_code(tx, "cert-viewer-tls")
        .await?
        .context("demo configuration item")?;
    store::problems::add_item(tx, ticket.id, item).await?;
    store::tickets::add_link(tx, incident, ticket.id, domain::ticket::LinkKind::FixedBy).await?;
    store::tickets::add_event(
        tx,
        incident,
        &actor,
        "emergency_change",
        true,
        Some(what),
        json!({"change": ticket.number, "implemented_at": at(implemented),
               "implementer": rfc.implementer, "due_at": at(due)}),
    )
    .await?;
    store::tickets::add_event(
        tx,
        ticket.id,
        &actor,
        "latent_rfc",
        true,
        None,
        json!({"incident": repaired.number, "implemented_at": at(implemented), "due_at": at(due)}),
    )
    .await?;
    store::change_outcomes::file_latent(
        tx,
        ticket.id,
        &store::change_outcomes::LatentFiling {
            reason: rfc.reason,
            notice_required: false,
            notice_rule: rfc.notice_rule.as_str(),
            disaster_recovery_exists: true,
            training_documents_exist: true,
            tested_in_lower_environments: false,
            risk: rfc.risk,
            users_affected: true,
            users_affected_how: "Viewer sessions were restarted.",
            outage_required: false,
            outage_start: None,
            outage_end: None,
            requested_start: &at(rfc.requested.0),
            requested_end: &at(rfc.requested.1),
            product_category: rfc.product_category,
            implementer: rfc.implementer,
            implementation_plan: rfc.implementation_plan,
            backout_plan: rfc.backout_plan,
            late_reason: None,
            filed_at: &at(filed),
        },
    )
    .await?;
    Ok(())
}
