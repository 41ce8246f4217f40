#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Text helpers shared by the report renderers. Everything that comes from the database passes through one of the
// escapes before it reaches a document: model names, commands and failure reasons can contain anything.
namespace accel::report {

// &, <, >, " and ' as entities; safe in element content and in quoted attributes.
std::string html_escape(std::string_view text);

// One Markdown table cell: | and backslashes escaped, newlines and other control characters as spaces, <> as
// entities (so a name cannot open an HTML tag in a renderer that allows it), backticks escaped.
std::string md_escape(std::string_view text);

// A fragment id usable in href="#..." and id="...": [A-Za-z0-9_-] kept, everything else as _XX hex.
std::string anchor_id(std::string_view prefix, std::string_view id);

// Numbers for people: 3 significant digits at most, no exponent below 1e15 ("1234", "12.3", "0.0123").
std::string format_number(double v);
std::string format_optional(const std::optional<double>& v, std::string_view unavailable = "-");
// 1536 -> "1.50 KiB"; binary units.
std::string format_bytes(double bytes);
// A percentage of change, signed: 0.123 -> "+12.3%".
std::string format_change(double fraction);

}  // namespace accel::report
