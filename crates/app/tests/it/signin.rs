use reqwest::StatusCode;
use testkit::{DEMO_PASSWORD, TestApp};

fn reset_link(message: &str) -> String {
    let start = message.find("/reset/").expect("link in mail");
    message[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('=')
        .to_owned()
}

#[tokio::test]
async fn email_first_then_password_then_sign_out() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let r = b.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin?next=%2F");
    let r = b
        .post_form(
            "/signin",
            &[
                ("email", "admin@operator.example"),
                ("next", "/admin/people"),
            ],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"password\""),
        "second step asks for the password"
    );
    let r = b
        .post_form(
            "/signin/password",
            &[
                ("email", "admin@operator.example"),
                ("password", DEMO_PASSWORD),
                ("next", "/admin/people"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/people");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("triage_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let (s, page) = b.text("/").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("data-testid=\"whoami\">Alex Admin<"),
        "{page}"
    );
    let r = b.post_form("/signout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.get("/signin").await;
    let r = b
        .client
        .post(app.url("/signin/password"))
        .form(&[
            ("email", "admin@operator.example"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("data-testid=\"error-code\">csrf_failed<")
    );
    let r = b
        .client
        .post(app.url("/signin/password"))
        .form(&[
            ("email", "admin@operator.example"),
            ("password", DEMO_PASSWORD),
            ("_csrf", "forged-value-forged-value-forged-value"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A signed-in browser calling the JSON API must send the token in a header.
    b.sign_in("admin@operator.example", DEMO_PASSWORD).await;
    let r = b
        .client
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = b.csrf().await;
    let r = b
        .client
        .post(app.url("/api/v1/tokens"))
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_a_reset_unlocks_it() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    for attempt in 1..=5 {
        let r = b.sign_in("clinician@hhs.example", "not the password").await;
        let expected = if attempt < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status(), expected, "attempt {attempt}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("data-testid=\"form-error\"")
        );
    }
    let r = b.sign_in("clinician@hhs.example", DEMO_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password"
    );
    // Unknown accounts answer like wrong passwords.
    assert_eq!(
        b.sign_in("nobody@hhs.example", DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // The clinician's organization signs in through its own provider: the mail says so.
    b.post_form("/forgot", &[("email", "clinician@hhs.example")])
        .await;
    let mail = app.last_mail_to("clinician@hhs.example").await.unwrap();
    assert_eq!(mail.kind, "reset-elsewhere");

    // An operator-credential account gets a one-time link.
    let r = b
        .post_form("/forgot", &[("email", "dr.singh@sole.example")])
        .await;
    assert_eq!(r.status(), 200);
    let mail = app.last_mail_to("dr.singh@sole.example").await.unwrap();
    assert!(
        mail.message.starts_with("From: ") || mail.message.contains("\r\nFrom: "),
        "a real RFC 5322 message"
    );
    let link = reset_link(&mail.message);
    assert_eq!(b.get(&link).await.status(), 200);
    let r = b
        .post_form(&link, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .post_form(
            &link,
            &[
                ("password", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b
        .post_form(
            &link,
            &[
                ("password", "another new passphrase"),
                ("confirm", "another new passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("reset_link_used"));
    assert_eq!(
        b.sign_in("dr.singh@sole.example", "a brand new passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // An expired link.
    let api = app.anonymous_api();
    api.post(
        "/api/v1/auth/forgot-password",
        serde_json::json!({"email": "admin@operator.example"}),
    )
    .await;
    let link = reset_link(
        &app.last_mail_to("admin@operator.example")
            .await
            .unwrap()
            .message,
    );
    let id = app.person_id("admin@operator.example").await;
    let mut tx = app.db().begin().await.unwrap();
    store::auth::expire_resets_of(&mut tx, id).await.unwrap();
    tx.commit().await.unwrap();
    let token = link.trim_start_matches("/reset/");
    let (s, body) = api
        .post(
            "/api/v1/auth/reset-password",
            serde_json::json!({"token": token, "password": "whatever it is now"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (410, Some("reset_link_expired"))
    );
}

#[tokio::test]
async fn roles_decide_what_pages_show() {
    let app = TestApp::spawn().await;
    let clinician = app.browser();
    clinician
        .sign_in("clinician@hhs.example", DEMO_PASSWORD)
        .await;
    let (s, page) = clinician.text("/admin/organizations").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("data-testid=\"error-code\">forbidden<"));
    let (s, _) = clinician.text("/admin/people").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, home) = clinician.text("/").await;
    assert!(!home.contains("/admin/organizations"));

    let lra = app.browser();
    lra.sign_in("lra@hhs.example", DEMO_PASSWORD).await;
    let (s, page) = lra.text("/admin/people").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("clinician@hhs.example") && !page.contains("niagara"),
        "LRA sees only their organization"
    );
    let nhs_person = app.person_id("clinician@niagara.example").await;
    assert_eq!(
        lra.get(&format!("/admin/people/{nhs_person}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let sole = app.person_id("dr.singh@sole.example").await;
    let r = lra
        .post_form(&format!("/admin/people/{sole}/password-reset"), &[])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "an LRA cannot act on another organization's people"
    );
    let colleague = app.person_id("helpdesk@hhs.example").await;
    let r = lra
        .post_form(&format!("/admin/people/{colleague}/password-reset"), &[])
        .await;
    assert_eq!(r.status(), 200);
    assert!(app.last_mail_to("helpdesk@hhs.example").await.is_some());

    let admin = app.browser();
    admin.sign_in("admin@operator.example", DEMO_PASSWORD).await;
    for page in [
        "/admin/organizations",
        "/admin/organizations/new",
        "/admin/people",
        "/admin/people/new",
        "/admin/groups",
        "/admin/audit",
        "/admin/outbox",
        "/admin/credential-requests",
        "/profile",
    ] {
        let (s, body) = admin.text(page).await;
        assert_eq!(s, 200, "{page}: {body}");
    }
}

#[tokio::test]
async fn admin_edits_an_organization_through_the_form() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    admin.sign_in("admin@operator.example", DEMO_PASSWORD).await;
    let hhs = app.org_id("HHS").await;
    let path = format!("/admin/organizations/{hhs}");
    let fields = [
        ("code", "HHS"),
        ("name_en", "Hamilton Health Sciences"),
        ("name_fr", "Hamilton Health Sciences"),
        ("org_type", "hospital"),
        ("contributes_data", "1"),
        ("identity_provider", "federated"),
        ("helpdesk_phone", "905-555-4242"),
        ("helpdesk_email", "not-an-email"),
        ("services", "1"),
        ("services", "2"),
    ];
    let r = admin.post_form(&path, &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("value=\"905-555-4242\""),
        "what was typed is kept"
    );
    let mut fields = fields.to_vec();
    fields[7] = ("helpdesk_email", "desk@hhs.example");
    let r = admin.post_form(&path, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let api = app.api_as("admin@operator.example").await;
    let (_, org) = api.get(&format!("/api/v1/organizations/{hhs}")).await;
    assert_eq!(org["helpdesk_email"], "desk@hhs.example");
    assert_eq!(org["services"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn language_follows_the_switch_then_the_browser_then_the_person() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let page = b
        .client
        .get(app.url("/signin"))
        .header("accept-language", "fr-CA")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<html lang=\"fr\">") && page.contains("Se connecter"));
    let r = b
        .post_form("/lang", &[("lang", "en"), ("next", "/signin")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = b
        .client
        .get(app.url("/signin"))
        .header("accept-language", "fr-CA")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<html lang=\"en\">"),
        "the switch wins over the browser"
    );
    // Without a browser language, a French-speaking person gets French after signing in.
    let fresh = app.browser();
    fresh
        .sign_in("agent1@operator.example", DEMO_PASSWORD)
        .await;
    let (_, home) = fresh.text("/").await;
    assert!(
        home.contains("<html lang=\"fr\">") && home.contains("Bienvenue"),
        "{home}"
    );
}

#[tokio::test]
async fn request_for_credentials_reaches_the_lra() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let nhs = app.org_id("NHS").await.to_string();
    let r = b
        .post_form(
            "/request-access",
            &[
                ("organization_id", &nhs),
                ("name", "Nurse Newcomer"),
                ("email", "not an email"),
                ("phone", ""),
                ("job_title", "RN"),
                ("reason", "Starting Monday"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().await.unwrap().contains("Starting Monday"),
        "input kept"
    );
    let r = b
        .post_form(
            "/request-access",
            &[
                ("organization_id", &nhs),
                ("name", "Nurse Newcomer"),
                ("email", "newcomer@niagara.example"),
                ("phone", ""),
                ("job_title", "RN"),
                ("reason", "Starting Monday"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let mail = app
        .last_mail_to("lra@niagara.example")
        .await
        .expect("the LRA is mailed");
    assert!(mail.subject.contains("Nurse Newcomer"));
    let lra = app.api_as("lra@niagara.example").await;
    let (_, list) = lra.get("/api/v1/credential-requests").await;
    assert_eq!(list[0]["email"], "newcomer@niagara.example");
    let other_lra = app.api_as("lra@hhs.example").await;
    let (_, list) = other_lra.get("/api/v1/credential-requests").await;
    assert_eq!(list, serde_json::json!([]));
}

#[tokio::test]
async fn sign_in_redirects_only_to_this_site() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let r = b
        .post_form(
            "/signin/password",
            &[
                ("email", "admin@operator.example"),
                ("password", DEMO_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
}
