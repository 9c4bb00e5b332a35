//! [`App`]: a node and what the world lends it, answering typed requests.

use std::sync::Arc;

use maillage_core::Ledger;

use crate::error::Result;
use crate::network::Network;
use crate::node::Node;
use crate::request::{Request, Response};

/// A node at work: every front end asks it through [`App::handle`].
#[derive(Debug, Clone)]
pub struct App {
    node: Arc<Node>,
    /// The federation's links, when the node serves.
    network: Option<Arc<dyn Network>>,
}

impl App {
    /// A node working alone (the CLI on a data dir no daemon serves).
    pub fn new(node: Arc<Node>) -> Self {
        Self {
            node,
            network: None,
        }
    }

    /// A serving node, reaching the federation through `network`.
    pub fn serving(node: Arc<Node>, network: Arc<dyn Network>) -> Self {
        Self {
            node,
            network: Some(network),
        }
    }

    /// The node.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The links, when serving.
    pub fn network(&self) -> Option<&Arc<dyn Network>> {
        self.network.as_ref()
    }

    /// Today, by the node's clock (days since 1970-01-01).
    pub fn today(&self) -> i32 {
        self.node.clock().today()
    }

    /// Answers a request.
    pub fn handle(&self, request: Request) -> Result<Response> {
        use Request as R;
        if request.signs() {
            self.node.may_sign()?;
            // Before the views are taken: replication may have to store this node's own
            // missing events (and fold them) for the gate to open.
            self.node
                .gate()
                .check()
                .map_err(crate::error::AppError::unavailable)?;
        }
        let response = match request {
            R::ImportVenues(r) => Response::VenuesImported(self.import_venues(r)?),
            R::EditVenue(r) => Response::Signed(self.edit_venue(r)?),
            R::CloseVenue(r) => Response::Signed(self.close_venue(r)?),
            R::ReopenVenue(r) => Response::Signed(self.reopen_venue(r)?),
            R::QualifyVenue(r) => Response::Signed(self.qualify_venue(r)?),
            R::RevokeQualification(r) => Response::Signed(self.revoke_qualification(r)?),
            R::IssueBatch(r) => Response::Signed(self.issue_batch(r)?),
            R::HandOut(r) => Response::Signed(self.hand_out(r)?),
            R::Redeem(r) => self.redeem(r)?,
            R::Transfer(r) => Response::Signed(self.transfer(r)?),
            R::Claim(r) => Response::Signed(self.claim(r)?),
            R::AnswerClaim(r) => Response::Signed(self.answer_claim(r)?),
            R::Cancel(r) => Response::Signed(self.cancel(r)?),
            R::Settle(r) => Response::Signed(self.settle(r)?),
            R::OpenReferral(r) => Response::Signed(self.open_referral(r)?),
            R::AcceptReferral(r) => Response::Signed(self.accept_referral(r)?),
            R::DeclineReferral(r) => Response::Signed(self.decline_referral(r)?),
            R::ForwardReferral(r) => Response::Signed(self.forward_referral(r)?),
            R::CloseReferral(r) => Response::Signed(self.close_referral(r)?),
            R::RecordAccompaniment(r) => Response::Signed(self.record_accompaniment(r)?),
            R::ForgetPerson(r) => Response::Signed(self.forget_person(r)?),
            R::ImportLog(r) => Response::LogImported(self.import_log(r)?),
            R::ProposeAmendment(r) => Response::Signed(self.propose_amendment(r)?),
            R::RecoveryPlan { member } => Response::RecoveryPlan(self.recovery_plan(&member)?),
            R::EndorseAmendment { proposal } => {
                Response::Signed(self.endorse_amendment(&proposal)?)
            }
            R::ListVenues(r) => Response::Venues(self.list_venues(&r)?),
            R::SearchVenues(r) => Response::Venues(self.search_venues(&r)?),
            R::ShowVenue { id } => Response::Venue(Box::new(self.show_venue(&id)?)),
            R::ExportVenues => Response::File(self.export_venues()?),
            R::VoucherStatus { serial, as_of } => {
                Response::Voucher(Box::new(self.voucher_status(&serial, as_of.as_deref())?))
            }
            R::BatchStatus { batch, as_of } => {
                Response::Batch(self.batch_status(&batch, as_of.as_deref())?)
            }
            R::Referral { id, as_of } => {
                Response::Referral(Box::new(self.referral(&id, as_of.as_deref())?))
            }
            R::Parcours { person, as_of } => {
                Response::Parcours(self.parcours(&person, as_of.as_deref())?)
            }
            R::Stats { as_of } => Response::Stats(Box::new(self.stats(as_of.as_deref())?)),
            R::Digest => Response::Digest(self.digest()?),
            R::Rejections => Response::Rejections(self.rejections()?),
            R::Status => Response::Status(Box::new(self.status()?)),
            R::Federation => Response::Federation(self.federation_view()?),
            R::Export(r) => Response::Files(self.export_tables(&r)?),
            R::ExportLog => Response::File(self.export_log()?),
            R::VerifyLog => Response::Verified(self.verify_log()?),
        };
        Ok(response)
    }

    /// Runs `read` on the views, held for that time only.
    pub fn read<T>(&self, read: impl FnOnce(&Ledger) -> Result<T>) -> Result<T> {
        let views = self.node.views()?;
        read(&views)
    }
}
