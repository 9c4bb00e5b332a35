//! One error type for every command and query, with a stable kind a front end maps to its own
//! codes (a CLI exit code, a gRPC status, an HTTP status) and a message for people.

use serde::{Deserialize, Serialize};

/// What went wrong, in classes a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// An argument is malformed (the field, what was expected and what was found are named).
    InvalidArgument,
    /// What was asked for is not on this node.
    NotFound,
    /// The federation's rules refuse the event: nothing was signed.
    Rejected,
    /// The event cannot be judged yet: it relies on events this node does not hold.
    Pending,
    /// This node may not do it (an observer signs nothing; a caller may not read this).
    Forbidden,
    /// A resource is missing or busy (another process, a peer that does not answer).
    Unavailable,
    /// A failure of this node (disk, a broken invariant): see the message and the log.
    Internal,
}

impl ErrorKind {
    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::NotFound => "not_found",
            Self::Rejected => "rejected",
            Self::Pending => "pending",
            Self::Forbidden => "forbidden",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// The gRPC status of an error: the code says what the kind says.
impl From<AppError> for tonic::Status {
    fn from(error: AppError) -> Self {
        match error.kind {
            ErrorKind::InvalidArgument => Self::invalid_argument(error.message),
            ErrorKind::NotFound => Self::not_found(error.message),
            ErrorKind::Forbidden => Self::permission_denied(error.message),
            ErrorKind::Unavailable => Self::unavailable(error.message),
            ErrorKind::Rejected | ErrorKind::Pending => Self::failed_precondition(error.message),
            ErrorKind::Internal => Self::internal(error.message),
        }
    }
}

/// A command or query that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The class.
    pub kind: ErrorKind,
    /// For people: what went wrong and, where it helps, what to do.
    pub message: String,
    /// For an invalid argument: the field.
    pub field: Option<String>,
    /// For a refusal by the rules: the rule's stable code (docs/protocol.md §4c), e.g.
    /// `voucher.already_redeemed`.
    #[serde(default)]
    pub code: Option<String>,
}

impl AppError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            code: None,
        }
    }

    /// `field` is malformed: expected this (in the current language), found that (quoted as a
    /// bounded excerpt).
    pub fn invalid(field: &str, expected: &str, found: &str) -> Self {
        let found = maillage_core::excerpt::Excerpt::of(found);
        Self {
            kind: ErrorKind::InvalidArgument,
            message: maillage_core::tr!(
                "{field} : attendu {expected}, reçu {found}",
                "{field}: expected {expected}, found {found}"
            ),
            field: Some(field.to_owned()),
            code: None,
        }
    }

    /// `field` is wrong, as `message` explains.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidArgument,
            message: message.into(),
            field: Some(field.to_owned()),
            code: None,
        }
    }

    /// Not on this node.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// The rules refuse the event: `rejection` names the rule and the facts.
    pub fn rule(rejection: &maillage_core::Rejection) -> Self {
        Self {
            kind: ErrorKind::Rejected,
            message: rejection.to_string(),
            field: None,
            code: Some(rejection.code().to_owned()),
        }
    }

    /// The rules refuse the event, for `reason`.
    pub fn rejected(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Rejected, reason)
    }

    /// Not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// Missing or busy.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// A failure of this node.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Prefixes the message with what was being done.
    pub fn context(mut self, what: impl std::fmt::Display) -> Self {
        let message = &self.message;
        self.message = maillage_core::tr!("{what} : {message}", "{what}: {message}");
        self
    }
}

impl From<maillage_store::StoreError> for AppError {
    fn from(error: maillage_store::StoreError) -> Self {
        Self::internal(maillage_core::tr!("stockage : {error}", "store: {error}"))
    }
}

impl From<csv::Error> for AppError {
    fn from(error: csv::Error) -> Self {
        Self::internal(maillage_core::tr!(
            "écriture du CSV : {error}",
            "writing CSV: {error}"
        ))
    }
}

impl From<maillage_venues::ExportError> for AppError {
    fn from(error: maillage_venues::ExportError) -> Self {
        Self::internal(maillage_core::tr!(
            "écriture du CSV : {error}",
            "writing CSV: {error}"
        ))
    }
}

impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> Self {
        Self::internal(maillage_core::lang::io_error(&error))
    }
}

/// Results of this crate.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Adds context to the error of a fallible call.
pub trait Context<T> {
    /// On error, an [`AppError`] of the source's kind (internal for foreign errors) whose
    /// message starts with `what`.
    fn context(self, what: impl std::fmt::Display) -> Result<T>;
    /// [`Context::context`], with the message built only on error.
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<AppErrorSource>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().0.context(what))
    }

    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| e.into().0.context(what()))
    }
}

/// Anything [`Context`] turns into an [`AppError`].
#[derive(Debug)]
pub struct AppErrorSource(AppError);

impl From<AppError> for AppErrorSource {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl From<std::io::Error> for AppErrorSource {
    fn from(error: std::io::Error) -> Self {
        Self(AppError::from(error))
    }
}

impl From<maillage_store::StoreError> for AppErrorSource {
    fn from(error: maillage_store::StoreError) -> Self {
        Self(AppError::from(error))
    }
}

impl From<toml::de::Error> for AppErrorSource {
    fn from(error: toml::de::Error) -> Self {
        Self(AppError::invalid_field("toml", error.message().to_owned()))
    }
}

impl From<toml::ser::Error> for AppErrorSource {
    fn from(error: toml::ser::Error) -> Self {
        Self(AppError::internal(error.to_string()))
    }
}

impl From<maillage_core::charter::CharterError> for AppErrorSource {
    fn from(error: maillage_core::charter::CharterError) -> Self {
        Self(AppError::invalid_field("charter", error.to_string()))
    }
}

impl From<String> for AppErrorSource {
    fn from(error: String) -> Self {
        Self(AppError::internal(error))
    }
}

impl From<maillage_core::EnvelopeError> for AppErrorSource {
    fn from(error: maillage_core::EnvelopeError) -> Self {
        Self(AppError::internal(error.to_string()))
    }
}

/// Returns early with an [`AppError`] of `kind`.
#[macro_export]
macro_rules! fail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::AppError::new($crate::error::ErrorKind::$kind, format!($($arg)*)))
    };
}
