//! The pages: server-rendered HTML in the GOV.UK Frontend style, each
//! usable without JavaScript (htmx only boosts links and the people search).
//! Handlers turn forms into domain events and hand them to
//! `forms::record_one` (or `forms::record`); a refusal comes back next to
//! its field and nothing is written. A page imports no other page: what
//! pages share is in `forms` and `layout`.

mod credentials;
mod devices;
pub mod events;
mod importing;
mod incidents;
mod me;
mod packs;
mod people;
mod policies;
mod registers;
mod signin;

use crate::guards::Routes;

pub fn routes(r: Routes) -> Routes {
    crate::guards::table! { signin::routes(r);
        get  "/c/{council}" ViewRegisters => registers::dashboard;
        get  "/c/{council}/people" ViewRegisters => registers::people;
        get  "/c/{council}/people.csv" ViewRegisters => registers::people_csv;
        get  "/c/{council}/people/{person}" ViewRegisters => people::person;
        get  "/c/{council}/findings" ViewFindings => registers::findings;
        get  "/c/{council}/findings.csv" ViewFindings => registers::findings_csv;
        get  "/c/{council}/report.pdf" ViewFindings => registers::committee_report;
        get  "/c/{council}/claims" ViewRegisters => registers::claims;
        get  "/c/{council}/claims.csv" ViewRegisters => registers::claims_csv;
        get  "/c/{council}/starters" ManagePeople => people::starter_form;
        post "/c/{council}/starters" ManagePeople => people::starter;
        post "/c/{council}/people/{person}/move" ManagePeople => people::mover;
        get  "/c/{council}/people/{person}/leave" ManagePeople => people::leaver_form;
        post "/c/{council}/people/{person}/leave" ManagePeople => people::leaver;
        post "/c/{council}/people/{person}/access/revoke" ManageAccess => people::revoke_access;
        post "/c/{council}/people/{person}/access/grant" ManageAccess => people::grant_access;
        post "/c/{council}/people/{person}/mfa" ManagePeople => people::record_mfa;
        post "/c/{council}/people/{person}/training" ManagePeople => people::record_training;
        post "/c/{council}/people/{person}/agreement" ManagePeople => people::record_agreement;
        post "/c/{council}/people/{person}/role" ManageAccounts => people::change_role;
        post "/c/{council}/people/{person}/account" ManageAccounts => people::set_up_account;
        get  "/c/{council}/imports" ImportRecords => importing::form;
        upload "/c/{council}/imports" ImportRecords => importing::upload;
        get  "/c/{council}/devices" ViewRegisters => devices::register;
        get  "/c/{council}/devices.csv" ViewRegisters => devices::register_csv;
        post "/c/{council}/devices" ManageDevices => devices::add;
        get  "/c/{council}/devices/{device}" ViewRegisters => devices::device;
        post "/c/{council}/devices/{device}/issue" ManageDevices => devices::issue;
        post "/c/{council}/devices/{device}/return" ManageDevices => devices::give_back;
        post "/c/{council}/devices/{device}/lost" ManageDevices => devices::lost;
        post "/c/{council}/devices/{device}/removal" ApproveRemoval => devices::removal;
        post "/c/{council}/devices/{device}/dispose" ManageDevices => devices::dispose;
        get  "/c/{council}/events/{event}" ViewRegisters => events::event;
        post "/c/{council}/events/{event}/correct" CorrectRecords => events::correct;
        get  "/c/{council}/policies" ViewRegisters => policies::list;
        get  "/c/{council}/pack" ViewRegisters => packs::rules_in_words;
        get  "/c/{council}/pack/compare" ViewRegisters => packs::compare;
        get  "/c/{council}/what-if" ViewFindings => packs::what_if;
        get  "/c/{council}/policies/{policy}" ViewRegisters => policies::policy;
        get  "/c/{council}/policies/{policy}/versions/{version}" ViewRegisters => policies::version;
        post "/c/{council}/policies/{policy}/publish" ManagePolicies => policies::publish;
        post "/c/{council}/policies/{policy}/communicated" ManagePolicies => policies::communicated;
        post "/c/{council}/policies/{policy}/review" ManagePolicies => policies::review;
        get  "/c/{council}/incidents" ViewRegisters => incidents::list;
        get  "/c/{council}/incidents.csv" ViewRegisters => incidents::list_csv;
        get  "/c/{council}/incidents/new" ReportIncident => incidents::report_form;
        post "/c/{council}/incidents/new" ReportIncident => incidents::report;
        get  "/c/{council}/incidents/{incident}" ViewRegisters => incidents::incident;
        post "/c/{council}/incidents/{incident}/assess" AssessIncident => incidents::assess;
        post "/c/{council}/incidents/{incident}/notify" HandleIncident => incidents::notify;
        post "/c/{council}/incidents/{incident}/close" HandleIncident => incidents::close;
        get  "/c/{council}/me" SelfService => me::home;
        get  "/c/{council}/team" ViewTeam => me::team;
        get  "/c/{council}/me/policies/{policy}" SelfService => me::policy_form;
        post "/c/{council}/me/policies/{policy}" SelfService => me::accept;
        get  "/c/{council}/me/lost" SelfService => me::lost_form;
        post "/c/{council}/me/lost" SelfService => me::lost;
        get  "/c/{council}/me/broadband" SelfService => me::broadband_form;
        post "/c/{council}/me/broadband" SelfService => me::broadband;
        get  "/c/{council}/me/password" SelfService => credentials::password_form;
        post "/c/{council}/me/password" SelfService => credentials::password;
        get  "/c/{council}/me/tokens" SelfService => credentials::tokens;
        post "/c/{council}/me/tokens" SelfService => credentials::new_token;
        post "/c/{council}/me/tokens/{token}/revoke" SelfService => credentials::revoke_token;
    }
}
