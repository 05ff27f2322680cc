//! Authentication: password hashing, signed tokens, revocation, login throttling, and the
//! [`AuthUser`] extractor that handlers name in their signature to require a signed-in user.

mod extractor;
pub mod password;
mod revocation;
mod throttle;
pub mod token;

pub use extractor::AuthUser;
pub use revocation::Revocations;
pub use throttle::Throttle;
pub use token::{Claims, TokenKeys};
