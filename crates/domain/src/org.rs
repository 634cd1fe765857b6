//! Organizations: the operator and its partner organizations.
use crate::error::{DomainError, Result};
use crate::role::string_enum;
use crate::text::{Email, optional, required};
use serde::{Deserialize, Serialize};

string_enum! {
    OrgType {
        Operator = "operator",
        Hospital = "hospital",
        CommunityCare = "community_care",
        SolePractitioner = "sole_practitioner",
        Lab = "lab",
        Clinic = "clinic",
        PublicHealth = "public_health",
        Vendor = "vendor",
        Other = "other",
    }
}

string_enum! {
    /// Who authenticates an organization's people (actors.md "Identity providers").
    IdentityProvider {
        Operator = "operator",
        Federated = "federated",
        Provincial = "provincial",
    }
}

/// Validated fields of an organization, as created or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgFields {
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub org_type: OrgType,
    pub contributes_data: bool,
    pub identity_provider: IdentityProvider,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub helpdesk_phone: Option<String>,
    pub helpdesk_email: Option<Email>,
    pub escalation_title: Option<String>,
    pub escalation_name: Option<String>,
    pub escalation_email: Option<Email>,
    pub escalation_mobile: Option<String>,
    pub after_hours_contacts: Option<String>,
    pub spoc_name: Option<String>,
    pub spoc_email: Option<Email>,
    pub spoc_phone: Option<String>,
    pub ticket_number_format: Option<String>,
    pub distribution_list: Option<Email>,
}

/// Raw input for an organization; `validate` turns it into `OrgFields`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgInput {
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub org_type: String,
    pub contributes_data: bool,
    pub identity_provider: String,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub helpdesk_phone: Option<String>,
    pub helpdesk_email: Option<String>,
    pub escalation_title: Option<String>,
    pub escalation_name: Option<String>,
    pub escalation_email: Option<String>,
    pub escalation_mobile: Option<String>,
    pub after_hours_contacts: Option<String>,
    pub spoc_name: Option<String>,
    pub spoc_email: Option<String>,
    pub spoc_phone: Option<String>,
    pub ticket_number_format: Option<String>,
    pub distribution_list: Option<String>,
}

fn optional_email(field: &'static str, value: Option<&str>) -> Result<Option<Email>> {
    match optional(field, value, 254)? {
        None => Ok(None),
        Some(v) => Email::parse_field(field, &v).map(Some),
    }
}

fn phone(field: &'static str, value: Option<&str>) -> Result<Option<String>> {
    let value = optional(field, value, 40)?;
    if let Some(v) = &value
        && !v
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().x#".contains(c))
    {
        return Err(DomainError::field("invalid_phone", field));
    }
    Ok(value)
}

impl OrgInput {
    pub fn validate(&self) -> Result<OrgFields> {
        let code = required("code", &self.code, 32)?.to_ascii_uppercase();
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::field("invalid_code", "code"));
        }
        let org_type = OrgType::parse(self.org_type.trim())
            .ok_or(DomainError::field("invalid_choice", "org_type"))?;
        let identity_provider = IdentityProvider::parse(self.identity_provider.trim())
            .ok_or(DomainError::field("invalid_choice", "identity_provider"))?;
        let oidc_issuer = optional("oidc_issuer", self.oidc_issuer.as_deref(), 500)?;
        if let Some(issuer) = &oidc_issuer
            && !(issuer.starts_with("https://") || issuer.starts_with("http://"))
        {
            return Err(DomainError::field("invalid_url", "oidc_issuer"));
        }
        let ticket_number_format = optional(
            "ticket_number_format",
            self.ticket_number_format.as_deref(),
            64,
        )?;
        if let Some(format) = &ticket_number_format {
            crate::org::partner_number_pattern_ok(format)?;
        }
        Ok(OrgFields {
            code,
            name_en: required("name_en", &self.name_en, 200)?,
            name_fr: required("name_fr", &self.name_fr, 200)?,
            org_type,
            contributes_data: self.contributes_data,
            identity_provider,
            oidc_issuer,
            oidc_client_id: optional("oidc_client_id", self.oidc_client_id.as_deref(), 200)?,
            helpdesk_phone: phone("helpdesk_phone", self.helpdesk_phone.as_deref())?,
            helpdesk_email: optional_email("helpdesk_email", self.helpdesk_email.as_deref())?,
            escalation_title: optional("escalation_title", self.escalation_title.as_deref(), 200)?,
            escalation_name: optional("escalation_name", self.escalation_name.as_deref(), 200)?,
            escalation_email: optional_email("escalation_email", self.escalation_email.as_deref())?,
            escalation_mobile: phone("escalation_mobile", self.escalation_mobile.as_deref())?,
            after_hours_contacts: optional(
                "after_hours_contacts",
                self.after_hours_contacts.as_deref(),
                2000,
            )?,
            spoc_name: optional("spoc_name", self.spoc_name.as_deref(), 200)?,
            spoc_email: optional_email("spoc_email", self.spoc_email.as_deref())?,
            spoc_phone: phone("spoc_phone", self.spoc_phone.as_deref())?,
            ticket_number_format,
            distribution_list: optional_email(
                "distribution_list",
                self.distribution_list.as_deref(),
            )?,
        })
    }
}

/// A partner's ticket-number format is a pattern where `#` is a digit, `A` a capital letter
/// and anything else is literal, e.g. `INC#######` or `HHS-######`.
pub fn partner_number_pattern_ok(pattern: &str) -> Result<()> {
    if pattern.is_empty() || !pattern.chars().any(|c| c == '#' || c == 'A') {
        return Err(DomainError::field(
            "invalid_pattern",
            "ticket_number_format",
        ));
    }
    Ok(())
}

/// Does `number` follow a partner's ticket-number `pattern`?
pub fn matches_partner_number(pattern: &str, number: &str) -> bool {
    let number = number.trim();
    pattern.chars().count() == number.chars().count()
        && pattern.chars().zip(number.chars()).all(|(p, n)| match p {
            '#' => n.is_ascii_digit(),
            'A' => n.is_ascii_uppercase(),
            _ => p == n,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OrgInput {
        OrgInput {
            code: "hhs".into(),
            name_en: "Hamilton Health".into(),
            name_fr: "Santé Hamilton".into(),
            org_type: "hospital".into(),
            contributes_data: true,
            identity_provider: "federated".into(),
            helpdesk_email: Some("Help@HHS.ca".into()),
            ticket_number_format: Some("INC#######".into()),
            ..Default::default()
        }
    }

    #[test]
    fn validates_and_normalises() {
        let fields = input().validate().unwrap();
        assert_eq!(fields.code, "HHS");
        assert_eq!(fields.helpdesk_email.unwrap().as_str(), "help@hhs.ca");
        assert_eq!(fields.org_type, OrgType::Hospital);
    }

    #[test]
    fn refuses_bad_values() {
        let mut bad = input();
        bad.org_type = "castle".into();
        assert_eq!(
            bad.validate().unwrap_err(),
            DomainError::field("invalid_choice", "org_type")
        );
        let mut bad = input();
        bad.helpdesk_phone = Some("call me".into());
        assert_eq!(bad.validate().unwrap_err().code, "invalid_phone");
        let mut bad = input();
        bad.escalation_email = Some("nope".into());
        assert_eq!(
            bad.validate().unwrap_err(),
            DomainError::field("invalid_email", "escalation_email")
        );
        let mut bad = input();
        bad.code = "a b".into();
        assert_eq!(bad.validate().unwrap_err().code, "invalid_code");
    }

    #[test]
    fn partner_numbers() {
        assert!(matches_partner_number("INC#######", "INC0012345"));
        assert!(!matches_partner_number("INC#######", "INC001234"));
        assert!(!matches_partner_number("INC#######", "RIT0012345"));
        assert!(matches_partner_number("AA-####", "HH-0001"));
        assert!(partner_number_pattern_ok("free text").is_err());
    }
}
