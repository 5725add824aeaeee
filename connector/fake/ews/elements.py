"""The EWS item elements the fake serves, as ``types.xsd`` orders and types them.

The element orders are the ``xs:sequence`` of ``ItemType`` and its subtypes in Microsoft's
``types.xsd``, restricted to the elements the fake can serve. The schema itself is not shipped with
the project; the tests validate every response against it, which is what keeps these lists honest.
"""

from __future__ import annotations

from connector.fake.model import ItemKind

# --- element orders (types.xsd) ------------------------------------------------------------------

ITEM_BASE_ORDER: tuple[str, ...] = (
    "ItemId",
    "ParentFolderId",
    "ItemClass",
    "Subject",
    "Sensitivity",
    "Body",
    "DateTimeReceived",
    "Size",
    "Categories",
    "Importance",
    "InReplyTo",
    "IsSubmitted",
    "IsDraft",
    "IsFromMe",
    "IsResend",
    "IsUnmodified",
    "DateTimeSent",
    "DateTimeCreated",
    "ReminderDueBy",
    "ReminderIsSet",
    "ReminderMinutesBeforeStart",
    "DisplayCc",
    "DisplayTo",
    "HasAttachments",
    "ExtendedProperty",
    "Culture",
    "LastModifiedName",
    "LastModifiedTime",
    "IsAssociated",
    "ConversationId",
)

KIND_ORDER: dict[ItemKind, tuple[str, ...]] = {
    "Message": (
        *ITEM_BASE_ORDER,
        "Sender",
        "ToRecipients",
        "CcRecipients",
        "BccRecipients",
        "IsReadReceiptRequested",
        "IsDeliveryReceiptRequested",
        "ConversationIndex",
        "ConversationTopic",
        "From",
        "InternetMessageId",
        "IsRead",
        "IsResponseRequested",
        "References",
        "ReplyTo",
    ),
    "Contact": (
        *ITEM_BASE_ORDER,
        "FileAs",
        "DisplayName",
        "GivenName",
        "Initials",
        "MiddleName",
        "Nickname",
        "CompanyName",
        "EmailAddresses",
        "PhysicalAddresses",
        "PhoneNumbers",
        "AssistantName",
        "Birthday",
        "BusinessHomePage",
        "Children",
        "Companies",
        "Department",
        "Generation",
        "JobTitle",
        "Manager",
        "Mileage",
        "OfficeLocation",
        "Profession",
        "SpouseName",
        "Surname",
        "WeddingAnniversary",
    ),
    "CalendarItem": (
        *ITEM_BASE_ORDER,
        "UID",
        "Start",
        "End",
        "OriginalStart",
        "IsAllDayEvent",
        "LegacyFreeBusyStatus",
        "Location",
        "IsMeeting",
        "IsCancelled",
        "IsRecurring",
        "MeetingRequestWasSent",
        "IsResponseRequested",
        "CalendarItemType",
        "MyResponseType",
        "Organizer",
        "RequiredAttendees",
        "OptionalAttendees",
        "Resources",
        "Duration",
        "AppointmentSequenceNumber",
        "Recurrence",
        "FirstOccurrence",
        "LastOccurrence",
        "ModifiedOccurrences",
        "DeletedOccurrences",
        "StartTimeZone",
        "EndTimeZone",
        "AllowNewTimeProposal",
        "IsOnlineMeeting",
    ),
    "Task": (
        *ITEM_BASE_ORDER,
        "ActualWork",
        "BillingInformation",
        "ChangeCount",
        "Companies",
        "CompleteDate",
        "Contacts",
        "DelegationState",
        "DueDate",
        "IsComplete",
        "IsRecurring",
        "IsTeamTask",
        "Mileage",
        "Owner",
        "PercentComplete",
        "Recurrence",
        "StartDate",
        "Status",
        "StatusDescription",
        "TotalWork",
    ),
}
# MeetingRequestMessageType extends MessageType with optional elements only: the Message order holds.
KIND_ORDER["MeetingRequest"] = KIND_ORDER["Message"]
# DistributionListType: ItemType, then DisplayName, FileAs (ContactSource and Members are not served).
KIND_ORDER["DistributionList"] = (*ITEM_BASE_ORDER, "DisplayName", "FileAs")


#: How the value of each element is typed (see model.py). Elements absent here are plain strings.
BOOL_ELEMENTS = frozenset(
    {
        "IsSubmitted",
        "IsDraft",
        "IsFromMe",
        "IsResend",
        "IsUnmodified",
        "ReminderIsSet",
        "HasAttachments",
        "IsAssociated",
        "IsReadReceiptRequested",
        "IsDeliveryReceiptRequested",
        "IsRead",
        "IsResponseRequested",
        "IsAllDayEvent",
        "IsMeeting",
        "IsCancelled",
        "IsRecurring",
        "MeetingRequestWasSent",
        "AllowNewTimeProposal",
        "IsOnlineMeeting",
        "IsComplete",
        "IsTeamTask",
        "IsAssignmentEditable",
    }
)
DATETIME_ELEMENTS = frozenset(
    {
        "DateTimeReceived",
        "DateTimeSent",
        "DateTimeCreated",
        "ReminderDueBy",
        "LastModifiedTime",
        "Start",
        "End",
        "OriginalStart",
        "DueDate",
        "StartDate",
        "CompleteDate",
        "Birthday",
        "WeddingAnniversary",
        "AppointmentReplyTime",
    }
)
INT_ELEMENTS = frozenset(
    {"Size", "ReminderMinutesBeforeStart", "AppointmentSequenceNumber", "ActualWork", "ChangeCount", "TotalWork"}
)
DOUBLE_ELEMENTS = frozenset({"PercentComplete"})
STRINGS_ELEMENTS = frozenset({"Categories", "Companies", "Children", "Contacts"})
MAILBOX_ELEMENTS = frozenset({"Sender", "From", "Organizer", "ReceivedBy", "ReceivedRepresenting"})
MAILBOXES_ELEMENTS = frozenset({"ToRecipients", "CcRecipients", "BccRecipients", "ReplyTo"})
ATTENDEES_ELEMENTS = frozenset({"RequiredAttendees", "OptionalAttendees", "Resources"})
TZ_ELEMENTS = frozenset({"StartTimeZone", "EndTimeZone"})
