//! The public status page's HTML, rendered once per snapshot.
use crate::status_snapshot::Model;
use domain::status_page::escape_xml as esc;
use domain::text::Locale;

pub fn render(model: &Model, locale: Locale) -> String {
    let mut out = String::with_capacity(16 * 1024);
    out.push_str(&format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main id=\"main\">",
        locale.as_str(),
        esc(locale.pick("Service status", "État des services"))
    ));
    out.push_str(&format!(
        "<h1>{}</h1><p class=\"status-overall status-{}\" data-testid=\"overall\">{}</p>",
        esc(locale.pick("Service status", "État des services")),
        model.overall.indicator.as_str(),
        esc(model.overall.indicator.description(locale))
    ));
    out.push_str("<ul>");
    for c in &model.components {
        out.push_str(&format!(
            "<li data-component=\"{}\">{} – {} ({} %)</li>",
            esc(&c.row.code),
            esc(locale.pick(&c.row.name_en, &c.row.name_fr)),
            esc(c.status.label(locale)),
            c.uptime.percent
        ));
    }
    out.push_str("</ul>");
    for e in model.unresolved_incidents() {
        out.push_str(&format!("<h2>{}</h2>", esc(e.title(locale))));
    }
    out.push_str("</main></body></html>\n");
    out
}
