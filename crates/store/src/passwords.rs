//! Argon2id password hashing (password-auth defaults: 19 MiB, 2 passes), off the async
//! executor because one hash takes tens of milliseconds of CPU.

pub async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .expect("hashing task")
}

pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => password_auth::verify_password(password, &hash).is_ok(),
        None => {
            // Spend the same time for unknown accounts so that timing does not reveal them.
            let _ = password_auth::verify_password(password, dummy_hash());
            false
        }
    })
    .await
    .expect("verify task")
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| password_auth::generate_hash("not a real password"))
}
