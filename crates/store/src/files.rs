//! Attachment contents in a content-addressed folder: `<root>/ab/cd/<sha256>`. The same
//! file uploaded twice is stored once; rows in `attachments` point at it by hash.
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(
            self.root
                .join(&sha256[0..2])
                .join(&sha256[2..4])
                .join(sha256),
        )
    }

    /// Stores the bytes durably (temporary file, fsync, rename) and returns their SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha).expect("hex digest");
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let dir = path.parent().expect("nested path").to_owned();
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".{sha}.{}", crate::random_token(6)));
        let bytes = bytes.to_vec();
        let (tmp2, path2) = (tmp.clone(), path.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp2)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp2, &path2)?;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(sha)
    }

    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path_of(sha256)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "bad hash"))?;
        tokio::fs::read(path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_content() {
        let dir = std::env::temp_dir().join(format!("triage-files-{}", crate::random_token(6)));
        let store = FileStore::new(&dir);
        let a = store.put(b"hello").await.unwrap();
        let b = store.put(b"hello").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(store.read(&a).await.unwrap(), b"hello");
        assert!(store.read("../../etc/passwd").await.is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
