"""Column layouts of the contact exports relsync knows, as data: header -> field.

Each profile is the column names its product writes in a contact export, as the product documents
them (Outlook's "Export to a file" CSV, ACT!'s contact export, GoldMine's contact1 export, Maximizer's
address book export, Salesforce's contact report and data export API names, HubSpot's contact export,
Dynamics 365's "Export to Excel" of contacts). Headers are compared folded (case, spaces and
punctuation ignored), and every profile falls back on the generic names, so a file with a column the
product added later still maps when its name is obvious. ``--map COLUMN=FIELD`` adds or overrides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Every field a column can map to, with what it means (``relsync import contacts --help`` lists them).
FIELDS: dict[str, str] = {
    "full_name": "the person's whole name (\"Smith, John\" or \"John Smith\")",
    "given_name": "first name",
    "middle_name": "middle name",
    "surname": "last name",
    "email": "e-mail address (email, email2, email3)",
    "email2": "second e-mail address",
    "email3": "third e-mail address",
    "phone": "business phone",
    "phone2": "second business phone",
    "mobile": "mobile phone",
    "home_phone": "home phone",
    "fax": "fax number",
    "job_title": "job title",
    "department": "department",
    "company": "organisation name",
    "website": "organisation web site",
    "street": "street (first line)",
    "street2": "street (second line)",
    "city": "city",
    "state": "state or province",
    "postcode": "postal code",
    "country": "country",
    "address": "a whole postal address in one cell",
    "type": "relationship type (customer, prospect, partner, ...)",
    "status": "relationship status (active, inactive, ...)",
    "owner": "who owns the relationship (a staff e-mail or name)",
    "source": "where the contact came from (lead source)",
    "referred_by": "who referred them",
    "parent": "parent company",
    "industry": "industry",
    "size": "company size (employees)",
    "what_matters": "what matters to them (free text)",
    "notes": "notes",
    "external_id": "the old system's id of the record",
    "ignore": "a column to skip on purpose",
}

#: Relationship attributes, stored as the person's user-defined fields under these names (the names
#: Outlook user fields carry, so ``[classification] user_fields`` and rules see them the same way).
ATTRIBUTE_FIELDS: dict[str, str] = {
    "type": "Type",
    "status": "Status",
    "owner": "Owner",
    "source": "Source",
    "referred_by": "Referred By",
    "parent": "Parent",
    "industry": "Industry",
    "size": "Size",
    "what_matters": "What Matters",
    "external_id": "External Id",
}

_GENERIC: dict[str, str] = {
    "name": "full_name", "full name": "full_name", "contact": "full_name", "contact name": "full_name",
    "display name": "full_name", "first name": "given_name", "firstname": "given_name", "given name": "given_name",
    "forename": "given_name", "middle name": "middle_name", "last name": "surname", "lastname": "surname",
    "surname": "surname", "family name": "surname", "email": "email", "e-mail": "email", "email address": "email",
    "e-mail address": "email", "mail": "email", "email 2": "email2", "email 3": "email3", "phone": "phone",
    "telephone": "phone", "tel": "phone", "work phone": "phone", "business phone": "phone", "mobile": "mobile",
    "mobile phone": "mobile", "cell": "mobile", "cell phone": "mobile", "home phone": "home_phone", "fax": "fax",
    "title": "job_title", "job title": "job_title", "position": "job_title", "role": "job_title",
    "department": "department", "company": "company", "company name": "company", "organisation": "company",
    "organization": "company", "account": "company", "account name": "company", "employer": "company",
    "website": "website", "web site": "website", "web page": "website", "url": "website", "street": "street",
    "address 1": "street", "address line 1": "street", "street 2": "street2", "address 2": "street2",
    "address line 2": "street2", "city": "city", "town": "city", "state": "state", "province": "state",
    "region": "state", "county": "state", "zip": "postcode", "zip code": "postcode", "postcode": "postcode",
    "postal code": "postcode", "post code": "postcode", "country": "country", "address": "address",
    "postal address": "address", "type": "type", "relationship type": "type", "status": "status",
    "owner": "owner", "account owner": "owner", "source": "source", "lead source": "source",
    "referred by": "referred_by", "referral": "referred_by", "parent": "parent", "parent company": "parent",
    "industry": "industry", "size": "size", "employees": "size", "company size": "size",
    "what matters": "what_matters", "notes": "notes", "note": "notes", "comments": "notes", "id": "external_id",
    "external id": "external_id", "record id": "external_id",
}

_OUTLOOK: dict[str, str] = {
    "First Name": "given_name", "Middle Name": "middle_name", "Last Name": "surname", "Title": "ignore",
    "Suffix": "ignore", "Company": "company", "Department": "department", "Job Title": "job_title",
    "Business Street": "street", "Business Street 2": "street2", "Business Street 3": "ignore",
    "Business City": "city", "Business State": "state", "Business Postal Code": "postcode",
    "Business Country/Region": "country", "Business Phone": "phone", "Business Phone 2": "phone2",
    "Mobile Phone": "mobile", "Home Phone": "home_phone", "Business Fax": "fax", "E-mail Address": "email",
    "E-mail Display Name": "ignore", "E-mail 2 Address": "email2", "E-mail 3 Address": "email3",
    "Notes": "notes", "Web Page": "website", "Referred By": "referred_by", "Categories": "ignore",
    "E-mail Type": "ignore", "E-mail 2 Type": "ignore", "E-mail 3 Type": "ignore",
}

_ACT: dict[str, str] = {
    "Contact": "full_name", "Company": "company", "First Name": "given_name", "Last Name": "surname",
    "Title": "job_title", "Department": "department", "Phone": "phone", "Mobile Phone": "mobile", "Fax": "fax",
    "Home Phone": "home_phone", "E-mail": "email", "Address 1": "street", "Address 2": "street2", "City": "city",
    "State": "state", "ZIP Code": "postcode", "Country": "country", "Web Site": "website", "ID/Status": "type",
    "Referred By": "referred_by", "Record Manager": "owner", "Salutation": "ignore", "Last Results": "notes",
}

_GOLDMINE: dict[str, str] = {
    "Contact": "full_name", "Company": "company", "Title": "job_title", "Dear": "ignore", "Department": "department",
    "Phone1": "phone", "Phone2": "phone2", "Phone3": "mobile", "Fax": "fax", "Address1": "street",
    "Address2": "street2", "City": "city", "State": "state", "Zip": "postcode", "Country": "country",
    "Email Address": "email", "Web Site": "website", "Key1": "type", "Key2": "status", "Key3": "industry",
    "Key4": "size", "Key5": "owner", "Source": "source", "AccountNo": "external_id", "Notes": "notes",
}

_MAXIMIZER: dict[str, str] = {
    "First Name": "given_name", "Last Name": "surname", "Company": "company", "Position": "job_title",
    "Department": "department", "Phone 1": "phone", "Phone 2": "phone2", "Phone 3": "mobile",
    "E-mail Address 1": "email", "E-mail Address 2": "email2", "Address Line 1": "street",
    "Address Line 2": "street2", "City": "city", "St/Prov": "state", "Zip/Postal Code": "postcode",
    "Country": "country", "Website": "website", "Lead Source": "source", "Client Id": "external_id",
    "Account Manager": "owner", "Category": "type", "Industry": "industry", "Number of Employees": "size",
}

_SALESFORCE: dict[str, str] = {
    # Contact report column labels ...
    "First Name": "given_name", "Last Name": "surname", "Account Name": "company", "Title": "job_title",
    "Department": "department", "Email": "email", "Phone": "phone", "Mobile": "mobile", "Home Phone": "home_phone",
    "Fax": "fax", "Mailing Street": "street", "Mailing City": "city", "Mailing State/Province": "state",
    "Mailing Zip/Postal Code": "postcode", "Mailing Country": "country", "Lead Source": "source",
    "Contact Owner": "owner", "Contact ID": "external_id", "Description": "notes", "Account Type": "type",
    "Industry": "industry", "Employees": "size", "Parent Account": "parent", "Website": "website",
    # ... and the API names of the Data Export service.
    "FirstName": "given_name", "LastName": "surname", "MobilePhone": "mobile", "HomePhone": "home_phone",
    "MailingStreet": "street", "MailingCity": "city", "MailingState": "state", "MailingPostalCode": "postcode",
    "MailingCountry": "country", "LeadSource": "source", "OwnerId": "owner", "Id": "external_id",
    "AccountId": "ignore",
}

_HUBSPOT: dict[str, str] = {
    "First Name": "given_name", "Last Name": "surname", "Email": "email", "Phone Number": "phone",
    "Mobile Phone Number": "mobile", "Company Name": "company", "Job Title": "job_title",
    "Street Address": "street", "City": "city", "State/Region": "state", "Postal Code": "postcode",
    "Country/Region": "country", "Website URL": "website", "Lifecycle Stage": "type", "Lead Status": "status",
    "Contact owner": "owner", "Original Source": "source", "Industry": "industry",
    "Number of Employees": "size", "Record ID": "external_id",
}

_DYNAMICS: dict[str, str] = {
    "Full Name": "full_name", "First Name": "given_name", "Last Name": "surname", "Company Name": "company",
    "Parent Customer": "company", "Job Title": "job_title", "Department": "department", "Email": "email",
    "Email Address 2": "email2", "Business Phone": "phone", "Mobile Phone": "mobile", "Home Phone": "home_phone",
    "Fax": "fax", "Address 1: Street 1": "street", "Address 1: Street 2": "street2", "Address 1: City": "city",
    "Address 1: State/Province": "state", "Address 1: ZIP/Postal Code": "postcode",
    "Address 1: Country/Region": "country", "Owner": "owner", "Relationship Type": "type",
    "Status Reason": "status", "Lead Source": "source", "Industry": "industry", "Website": "website",
    "(Do Not Modify) Contact": "external_id", "(Do Not Modify) Row Checksum": "ignore",
    "(Do Not Modify) Modified On": "ignore", "Description": "notes",
}

PROFILES: dict[str, dict[str, str]] = {
    "generic": {},
    "outlook": _OUTLOOK,
    "act": _ACT,
    "goldmine": _GOLDMINE,
    "maximizer": _MAXIMIZER,
    "salesforce": _SALESFORCE,
    "hubspot": _HUBSPOT,
    "dynamics": _DYNAMICS,
}


def fold_header(header: str) -> str:
    """A header as compared: case, surrounding space and runs of space or underscores ignored."""
    return re.sub(r"[\s_]+", " ", header.replace("\ufeff", "")).strip().casefold()


def column_fields(headers: list[str], profile: str, overrides: Mapping[str, str]) -> tuple[dict[int, str], list[str]]:
    """Which field each column feeds (by column index), and the headers no field knows (in file order).

    ``overrides`` (``--map``) wins over the profile, which wins over the generic names. A field fed by two
    columns keeps the first (a later duplicate header is reported by the reader)."""
    layers = [
        {fold_header(k): v for k, v in overrides.items()},
        {fold_header(k): v for k, v in PROFILES[profile].items()},
        _GENERIC,
    ]
    fields: dict[int, str] = {}
    unknown: list[str] = []
    taken: set[str] = set()
    for n, header in enumerate(headers):
        key = fold_header(header)
        field = next((layer[key] for layer in layers if key in layer), None)
        if field is None:
            if key:
                unknown.append(header)
            continue
        if field == "ignore" or field in taken:
            continue
        taken.add(field)
        fields[n] = field
    return fields, unknown
