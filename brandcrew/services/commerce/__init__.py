"""Commerce: the product catalog (CSV and store API imports), shoppable posts, conversion tracking and
revenue attribution. The server and the CLI call these functions; see each module for its rules."""

from brandcrew.services.commerce.analytics import CommerceReport, commerce_report
from brandcrew.services.commerce.catalog import (
    ImportReport,
    ProductRecord,
    VariantRecord,
    get_product,
    import_csv,
    search_products,
    upsert_products,
)
from brandcrew.services.commerce.conversions import (
    DEFAULT_WINDOW,
    SIGNATURE_HEADER,
    WORKSPACE_HEADER,
    ConversionIn,
    LineItem,
    list_conversions,
    record_event,
    rotate_webhook_secret,
    sign,
    verify_signature,
)
from brandcrew.services.commerce.shoppable import ProductTag, ShoppableLink, shoppable_links, tag_products
from brandcrew.services.commerce.stores import (
    StoreApiError,
    StoreAuthFailed,
    StoreCredentials,
    fetch_catalog,
    record_sync,
    save_store,
    sync_saved_store,
)

__all__ = (
    "DEFAULT_WINDOW",
    "SIGNATURE_HEADER",
    "WORKSPACE_HEADER",
    "CommerceReport",
    "ConversionIn",
    "ImportReport",
    "LineItem",
    "ProductRecord",
    "ProductTag",
    "ShoppableLink",
    "StoreApiError",
    "StoreAuthFailed",
    "StoreCredentials",
    "VariantRecord",
    "commerce_report",
    "fetch_catalog",
    "get_product",
    "import_csv",
    "list_conversions",
    "record_event",
    "record_sync",
    "rotate_webhook_secret",
    "save_store",
    "search_products",
    "shoppable_links",
    "sign",
    "sync_saved_store",
    "tag_products",
    "upsert_products",
    "verify_signature",
)
