// The names an enum's values have in the API, both ways, from one table per enum.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace splitvote::privacy {

template <class E, std::size_t N>
using name_table = std::array<std::pair<E, std::string_view>, N>;

/// The name of `value` ("unknown" for a value the table lacks).
template <class E, std::size_t N>
constexpr std::string_view name_of(const name_table<E, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "unknown";
}

/// The value named `name`, if any.
template <class E, std::size_t N>
constexpr std::optional<E> value_named(const name_table<E, N>& table, std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name) return v;
  return std::nullopt;
}

/// The value named `name`; std::invalid_argument "<what> must be one of a, b, c" if none.
template <class E, std::size_t N>
E parse_named(const name_table<E, N>& table, std::string_view name, std::string_view what);

/// Every name, as "a, b, c" (for error messages).
template <class E, std::size_t N>
std::string names_list(const name_table<E, N>& table) {
  std::string out;
  for (const auto& [v, name] : table) out.append(out.empty() ? "" : ", ").append(name);
  return out;
}

template <class E, std::size_t N>
E parse_named(const name_table<E, N>& table, std::string_view name, std::string_view what) {
  if (const auto v = value_named(table, name)) return *v;
  throw std::invalid_argument(std::string(what) + " must be one of " + names_list(table));
}

}  // namespace splitvote::privacy
