//! EN/FR strings from Fluent files in `locales/`. Both locales must have the same keys
//! (tested below).
use domain::text::Locale;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use unic_langid::{LanguageIdentifier, langid};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static FR: LanguageIdentifier = langid!("fr");

fn lang(locale: Locale) -> &'static LanguageIdentifier {
    match locale {
        Locale::En => &EN,
        Locale::Fr => &FR,
    }
}

/// Looks up `key`; a missing key shows as the key itself so that it is noticed.
pub fn t(locale: Locale, key: &str) -> String {
    LOCALES
        .try_lookup(lang(locale), key)
        .unwrap_or_else(|| key.to_owned())
}

pub fn t_args(locale: Locale, key: &str, args: &[(&'static str, String)]) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
        .iter()
        .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone())))
        .collect();
    LOCALES
        .try_lookup_with_args(lang(locale), key, &args)
        .unwrap_or_else(|| key.to_owned())
}

/// A translator bound to one locale, handed to templates as `tr`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    pub fn t(&self, key: &str) -> String {
        t(self.0, key)
    }
    pub fn t1(&self, key: &str, name: &'static str, value: &str) -> String {
        t_args(self.0, key, &[(name, value.to_owned())])
    }
    pub fn lang(&self) -> &'static str {
        self.0.as_str()
    }
    /// The English or French variant of a bilingual value.
    pub fn pick<'a>(&self, en: &'a str, fr: &'a str) -> &'a str {
        self.0.pick(en, fr)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every .ftl file of a language, concatenated (the loader reads them all).
    fn catalogue(lang: &str) -> String {
        let dir = format!("{}/locales/{lang}", env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap() + "\n")
            .collect()
    }

    fn keys(file: &str) -> BTreeSet<String> {
        let text = catalogue(file);
        text.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('.'))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
            .collect()
    }

    #[test]
    fn english_and_french_have_the_same_keys() {
        let en = keys("en");
        let fr = keys("fr");
        assert!(
            en.len() > 50,
            "expected a real catalogue, found {} keys",
            en.len()
        );
        let only_en: Vec<_> = en.difference(&fr).collect();
        let only_fr: Vec<_> = fr.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_fr.is_empty(),
            "only in en: {only_en:?}; only in fr: {only_fr:?}"
        );
    }

    /// Fluent refuses a catalogue that defines a key twice, and the server would not start.
    #[test]
    fn no_key_is_defined_twice() {
        for file in ["en", "fr"] {
            let text = catalogue(file);
            let mut seen = BTreeSet::new();
            for key in text
                .lines()
                .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('.'))
                .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim()))
            {
                assert!(seen.insert(key), "{file}: {key} is defined twice");
            }
        }
    }

    #[test]
    fn lookups_work_in_both_languages() {
        use super::*;
        assert_eq!(t(Locale::En, "sign-in"), "Sign in");
        assert_eq!(t(Locale::Fr, "sign-in"), "Se connecter");
        assert!(t_args(Locale::Fr, "error-too_long", &[("field", "name".into())]).contains("name"));
    }
}
