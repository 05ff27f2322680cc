//! The OpenAPI document (generated from the handlers' annotations, never written by hand) and
//! the interactive API page, whose assets are compiled into the binary so it works offline.

use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
pub const PAGE_PATH: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Grimoire API",
        description = "A self-hosted table for D&D 5e (SRD 5.1). Every response is an envelope: \
            `{success, data, meta}` or `{success: false, error: {code, message, details}, meta}`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "campaigns", description = "Campaigns, members, invitations, homebrew packs, notes"),
        (name = "compendium", description = "SRD and homebrew entries: browse, filter, search"),
        (name = "dice", description = "Rolls with every die explained, and exact odds"),
        (name = "dnd5eapi", description = "The dnd5eapi.co-compatible read-only surface"),
        (name = "rules", description = "Rule packs: status, errors, the scripting reference"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The interactive page at `/api/docs`, reading the document at `/api/v1/openapi.json`.
pub fn page(doc: Document) -> SwaggerUi {
    SwaggerUi::new(PAGE_PATH).url(DOCUMENT_PATH, doc)
}
