// OAuth 2.0 Form Post Response Mode §2: submit the response to the client at once. A file of its own,
// not inline: the provider's Content-Security-Policy allows scripts from 'self' only.
"use strict";
document.getElementById("mfa-form-post").submit();
