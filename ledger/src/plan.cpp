// Registry::ImportPlan: the National Allocation Plan (operator-cli.md, "The
// allocation plan file"). The whole input is validated before anything is
// written, and all writes happen in one transaction.
#include <map>
#include <set>

#include "carbonex/ledger/amounts.h"
#include "carbonex/ledger/registry.h"
#include "csv_reader.h"
#include "registry_impl.h"

namespace carbonex::ledger {
namespace {

constexpr std::int64_t kMaxCap = 1'000'000'000'000;  // 10^12 t

struct PlanCompany {
  const CsvRecord* row = nullptr;
  CompanySpec spec;
  std::map<int, std::int64_t> caps;      // year -> cap
  std::map<int, std::int64_t> verified;  // year -> ve
  std::int64_t installation_count = 0;
};

// Years of the columns named prefix<year>, in header order.
Status YearColumns(const CsvTable& t, std::string_view prefix,
                   std::vector<int>* years) {
  years->clear();
  for (const std::string& col : t.Header()) {
    if (col.size() == prefix.size() + 4 && col.starts_with(prefix)) {
      auto y = ParseYear(std::string_view(col).substr(prefix.size()));
      if (!y.ok()) {
        return Status::InvalidArgument(t.FileName() + " line 1: column '" +
                                       col + "': " + y.status().message());
      }
      years->push_back(*y);
    }
  }
  return Status::Ok();
}

Status ParseCapField(const CsvTable& t, const CsvRecord& row,
                     const std::string& col, std::int64_t* out) {
  const std::string& text = t.Field(row, col);
  if (!text.empty() && text[0] == '-') {
    return t.Error(row, col, "negative value '" + text + "'");
  }
  auto v = ParseFixed(text, 0);
  if (!v.ok()) {
    return t.Error(row, col, v.status().message());
  }
  if (*v > kMaxCap) {
    return t.Error(row, col, "above 10^12 t");
  }
  *out = *v;
  return Status::Ok();
}

Status RequireText(const CsvTable& t, const CsvRecord& row,
                   const std::string& col, std::size_t max) {
  const std::string& text = t.Field(row, col);
  if (text.empty()) {
    return t.Error(row, col, "missing value");
  }
  if (text.size() > max) {
    return t.Error(row, col, "value too long");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return t.Error(row, col, "control character in value");
    }
  }
  return Status::Ok();
}

bool SameSpec(const CompanySpec& a, const CompanySpec& b) {
  return a.id == b.id && a.name == b.name && a.sector == b.sector &&
         a.legal_form == b.legal_form && a.bin == b.bin &&
         a.registry_account == b.registry_account &&
         a.sector_name == b.sector_name && a.region == b.region &&
         a.allocation_method == b.allocation_method;
}

}  // namespace

Result<PlanImportSummary> Registry::ImportPlan(
    std::string_view companies_csv, std::string_view companies_name,
    std::string_view installations_csv, std::string_view installations_name,
    const PlanImportOptions& options) {
  // ---- Validate the companies file ----
  CsvTable table;
  Status s = CsvTable::Parse(companies_csv, companies_name, &table);
  if (!s.ok()) {
    return s;
  }
  s = table.RequireColumns({"company_id", "name", "legal_form", "bin",
                            "registry_account", "sector", "sector_name",
                            "region", "installation_count", "allocation_method",
                            "cap_total", "synthetic"});
  if (!s.ok()) {
    return s;
  }
  std::vector<int> years;
  s = YearColumns(table, "cap_", &years);
  if (!s.ok()) {
    return s;
  }
  if (years.empty()) {
    return Status::InvalidArgument(table.FileName() +
                                   " line 1: no cap_<year> column");
  }
  std::vector<int> ve_years;
  s = YearColumns(table, "ve_", &ve_years);
  if (!s.ok()) {
    return s;
  }
  if (options.with_emissions && ve_years.empty()) {
    return Status::InvalidArgument(table.FileName() +
                                   " line 1: --with-emissions needs ve_<year> "
                                   "columns");
  }
  if (table.Rows().empty()) {
    return Status::InvalidArgument(table.FileName() + ": no companies");
  }
  std::vector<PlanCompany> plan;
  std::map<std::string, std::size_t> by_id;
  for (const CsvRecord& row : table.Rows()) {
    PlanCompany pc;
    pc.row = &row;
    for (const char* col :
         {"company_id", "name", "legal_form", "bin", "registry_account",
          "sector", "sector_name", "region", "allocation_method"}) {
      s = RequireText(table, row, col, 200);
      if (!s.ok()) {
        return s;
      }
    }
    CompanySpec& c = pc.spec;
    c.id = table.Field(row, "company_id");
    if (c.id.size() > 32 ||
        c.id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789._-") != std::string::npos) {
      return table.Error(row, "company_id",
                         "must be 1..32 of A-Z a-z 0-9 . _ -");
    }
    if (!by_id.emplace(c.id, plan.size()).second) {
      return table.Error(row, "company_id",
                         "duplicate company '" + c.id + "' (first on line " +
                             std::to_string(plan[by_id[c.id]].row->line) + ")");
    }
    c.name = table.Field(row, "name");
    c.legal_form = table.Field(row, "legal_form");
    c.bin = table.Field(row, "bin");
    if (!IsValidBin(c.bin)) {
      return table.Error(
          row, "bin",
          "'" + c.bin + "' is not a valid BIN (12 digits, check digit)");
    }
    c.registry_account = table.Field(row, "registry_account");
    c.sector = table.Field(row, "sector");
    c.sector_name = table.Field(row, "sector_name");
    c.region = table.Field(row, "region");
    c.allocation_method = table.Field(row, "allocation_method");
    s = ParseCapField(table, row, "installation_count", &pc.installation_count);
    if (!s.ok()) {
      return s;
    }
    std::int64_t sum = 0;
    for (int y : years) {
      std::int64_t cap = 0;
      s = ParseCapField(table, row, "cap_" + std::to_string(y), &cap);
      if (!s.ok()) {
        return s;
      }
      pc.caps[y] = cap;
      sum += cap;
    }
    std::int64_t total = 0;
    s = ParseCapField(table, row, "cap_total", &total);
    if (!s.ok()) {
      return s;
    }
    if (total != sum) {
      return table.Error(row, "cap_total",
                         std::to_string(total) + " is not the sum of the " +
                             "yearly caps (" + std::to_string(sum) + ")");
    }
    if (options.with_emissions) {
      for (int y : ve_years) {
        const std::string col = "ve_" + std::to_string(y);
        if (table.Field(row, col).empty()) {
          continue;  // no report that year
        }
        std::int64_t ve = 0;
        s = ParseCapField(table, row, col, &ve);
        if (!s.ok()) {
          return s;
        }
        pc.verified[y] = ve;
      }
    }
    const std::string& synthetic = table.Field(row, "synthetic");
    if (synthetic != "0" && synthetic != "1") {
      return table.Error(row, "synthetic", "must be 0 or 1");
    }
    plan.push_back(std::move(pc));
  }

  // ---- Validate the installations file ----
  std::vector<InstallationRec> installations;
  std::vector<std::string> installation_company;
  if (!installations_csv.empty()) {
    CsvTable it;
    s = CsvTable::Parse(installations_csv, installations_name, &it);
    if (!s.ok()) {
      return s;
    }
    s = it.RequireColumns(
        {"installation_id", "company_id", "kind", "sector", "region"});
    if (!s.ok()) {
      return s;
    }
    std::vector<int> inst_years;
    s = YearColumns(it, "cap_", &inst_years);
    if (!s.ok()) {
      return s;
    }
    if (inst_years != years) {
      return Status::InvalidArgument(
          it.FileName() + " line 1: the cap_<year> columns differ from " +
          std::string(companies_name) + "'s");
    }
    std::set<std::string> ids;
    std::map<std::string, std::map<int, std::int64_t>> sums;
    std::map<std::string, std::int64_t> counts;
    std::map<std::string, const CsvRecord*> last_row;
    for (const CsvRecord& row : it.Rows()) {
      for (const char* col :
           {"installation_id", "company_id", "kind", "sector", "region"}) {
        s = RequireText(it, row, col, 64);
        if (!s.ok()) {
          return s;
        }
      }
      InstallationRec rec;
      rec.id = it.Field(row, "installation_id");
      if (rec.id.find_first_of(" ,\t") != std::string::npos) {
        return it.Error(row, "installation_id", "must not contain spaces");
      }
      if (!ids.insert(rec.id).second) {
        return it.Error(row, "installation_id",
                        "duplicate installation '" + rec.id + "'");
      }
      const std::string& company = it.Field(row, "company_id");
      if (by_id.count(company) == 0) {
        return it.Error(row, "company_id",
                        "company '" + company + "' is not in " +
                            std::string(companies_name));
      }
      rec.kind = it.Field(row, "kind");
      rec.sector = it.Field(row, "sector");
      rec.region = it.Field(row, "region");
      for (int y : years) {
        std::int64_t cap = 0;
        s = ParseCapField(it, row, "cap_" + std::to_string(y), &cap);
        if (!s.ok()) {
          return s;
        }
        rec.caps.emplace_back(y, cap);
        sums[company][y] += cap;
      }
      ++counts[company];
      last_row[company] = &row;
      installations.push_back(std::move(rec));
      installation_company.push_back(company);
    }
    for (const PlanCompany& pc : plan) {
      for (int y : years) {
        const std::int64_t sum = sums[pc.spec.id][y];
        if (sum != pc.caps.at(y)) {
          const std::string where =
              last_row.count(pc.spec.id) != 0
                  ? it.FileName() + " line " +
                        std::to_string(last_row[pc.spec.id]->line) +
                        ", column 'cap_" + std::to_string(y) + "'"
                  : it.FileName();
          return Status::InvalidArgument(
              where + ": installation caps of '" + pc.spec.id + "' for " +
              std::to_string(y) + " sum to " + std::to_string(sum) +
              ", the company's cap is " + std::to_string(pc.caps.at(y)));
        }
      }
      if (counts[pc.spec.id] != pc.installation_count) {
        return table.Error(*pc.row, "installation_count",
                           std::to_string(pc.installation_count) + " but " +
                               it.FileName() + " lists " +
                               std::to_string(counts[pc.spec.id]));
      }
    }
  }

  // ---- Apply, all in one transaction ----
  PlanImportSummary summary;
  Impl& im = *impl_;
  bool changed = false;
  s = im.Write(
      "nap import", [&](WriteContext& ctx, std::string* args) -> Status {
        Txn& txn = ctx.txn;
        // Instruments KZQ-<year>.
        std::map<int, InstrumentId> quota;
        for (int y : years) {
          const std::string symbol = "KZQ-" + std::to_string(y);
          InstrumentInfo info;
          Status st = im.FindInstrument(txn, symbol, &info);
          if (st.ok()) {
            if (info.spec.kind != InstrumentKind::kAllowance ||
                info.spec.vintage != y) {
              return Status::FailedPrecondition(
                  "nap import: instrument " + symbol +
                  " exists but is not an allowance of vintage " +
                  std::to_string(y));
            }
          } else if (st.code() == StatusCode::kNotFound) {
            std::uint32_t id = 0;
            st = im.NextId(txn, kInstrumentsDb, &id);
            if (!st.ok()) {
              return st;
            }
            info = InstrumentInfo{
                InstrumentId(id),
                InstrumentSpec{symbol, InstrumentKind::kAllowance, y, Price(1),
                               Quantity(1'000'000)}};
            st = im.PutInstrument(txn, info);
            if (!st.ok()) {
              return st;
            }
            ++summary.instruments_created;
            changed = true;
          } else {
            return st;
          }
          quota[y] = info.id;
        }
        std::map<std::string, AccountId> accounts;
        std::map<std::uint32_t, std::int64_t> issued_per_instrument;
        for (const PlanCompany& pc : plan) {
          CompanyInfo existing;
          Status st = im.FindAccount(txn, pc.spec.id, &existing);
          if (st.ok()) {
            CompanySpec want = pc.spec;
            want.holding_limit = existing.spec.holding_limit;
            if (!SameSpec(existing.spec, want)) {
              return table.Error(*pc.row, "company_id",
                                 "company '" + pc.spec.id +
                                     "' is already registered with different "
                                     "details");
            }
            ++summary.companies_existing;
          } else if (st.code() == StatusCode::kNotFound) {
            std::uint32_t id = 0;
            st = im.NextId(txn, kAccountsDb, &id);
            if (!st.ok()) {
              return st;
            }
            existing.account = AccountId(id);
            existing.spec = pc.spec;
            st = im.PutAccount(txn, existing);
            if (!st.ok()) {
              return st;
            }
            ++summary.companies_created;
            changed = true;
          } else {
            return st;
          }
          const AccountId account = existing.account;
          accounts[pc.spec.id] = account;
          for (const auto& [year, cap] : pc.caps) {
            std::optional<std::int64_t> old;
            st = im.GetCap(txn, account, year, &old);
            if (!st.ok()) {
              return st;
            }
            if (old && *old != cap) {
              return table.Error(*pc.row, "cap_" + std::to_string(year),
                                 "'" + pc.spec.id + "' already has cap " +
                                     std::to_string(*old) + " for " +
                                     std::to_string(year));
            }
            if (!old) {
              st = txn.Put(im.dbi_[kCapsDb],
                           Impl::YearKey(account.value(), year),
                           ValueWriter(RecordType::kCap).I64(cap).Encoded());
              if (!st.ok()) {
                return st;
              }
              changed = true;
            }
            // The free allocation, issued once per company and year.
            const std::string akey = Impl::YearKey(account.value(), year);
            std::string_view v;
            bool found = false;
            st = txn.Get(im.dbi_[kAllocationsDb], akey, &v, &found);
            if (!st.ok()) {
              return st;
            }
            if (found || cap == 0) {
              continue;
            }
            const InstrumentId inst = quota.at(year);
            st = txn.Put(im.dbi_[kAllocationsDb], akey,
                         ValueWriter(RecordType::kAllocation)
                             .I64(cap)
                             .U32(inst.value())
                             .Encoded());
            if (!st.ok()) {
              return st;
            }
            Balance b;
            st = im.GetHolding(txn, account, inst, &b);
            if (!st.ok()) {
              return st;
            }
            b.held += cap;
            st = im.PutHolding(txn, account, inst, b);
            if (!st.ok()) {
              return st;
            }
            issued_per_instrument[inst.value()] += cap;
            ++summary.allocations_issued;
            summary.units_issued += Quantity(cap);
            changed = true;
          }
        }
        for (const auto& [inst, qty] : issued_per_instrument) {
          Status st = im.AddTotal(ctx, TotalKind::kIssued, inst, qty);
          if (!st.ok()) {
            return st;
          }
        }
        for (std::size_t i = 0; i < installations.size(); ++i) {
          InstallationRec& rec = installations[i];
          rec.account = accounts.at(installation_company[i]);
          InstallationRec old;
          bool found = false;
          Status st = im.GetInstallation(txn, rec.id, &old, &found);
          if (!st.ok()) {
            return st;
          }
          if (found) {
            if (old.account != rec.account || old.kind != rec.kind ||
                old.sector != rec.sector || old.region != rec.region ||
                old.caps != rec.caps) {
              return Status::FailedPrecondition(
                  "nap import: installation '" + rec.id +
                  "' is already registered with different details");
            }
            continue;
          }
          st = im.PutInstallation(txn, rec);
          if (!st.ok()) {
            return st;
          }
          ++summary.installations_loaded;
          changed = true;
        }
        if (options.with_emissions) {
          for (const PlanCompany& pc : plan) {
            const AccountId account = accounts.at(pc.spec.id);
            for (const auto& [year, ve] : pc.verified) {
              std::vector<EmissionsRec> recs;
              Status st = im.LoadEmissions(txn, account, year, &recs);
              if (!st.ok()) {
                return st;
              }
              if (!recs.empty()) {
                const EmissionsReportView& first = recs.front().view;
                if (recs.size() == 1 && first.source == "plan" &&
                    first.total.value() == ve) {
                  continue;  // loaded by an earlier import of this plan
                }
                return table.Error(*pc.row, "ve_" + std::to_string(year),
                                   "'" + pc.spec.id +
                                       "' already has emissions reports for " +
                                       std::to_string(year));
              }
              EmissionsRec rec;
              rec.view.company = pc.spec.id;
              rec.view.year = year;
              rec.view.version = 1;
              rec.view.state = EmissionsState::kVerified;
              rec.view.total = Quantity(ve);
              rec.view.verifier = "plan";
              rec.view.source = "plan";
              rec.submitted_ns = NowNanos();
              rec.decided_ns = rec.submitted_ns;
              st = im.PutEmissions(txn, account, rec);
              if (!st.ok()) {
                return st;
              }
              ++summary.emissions_loaded;
              changed = true;
            }
          }
        }
        if (!changed) {
          return Status::Ok();
        }
        *args =
            "{\"companies_created\":" +
            std::to_string(summary.companies_created) +
            ",\"instruments_created\":" +
            std::to_string(summary.instruments_created) +
            ",\"allocations_issued\":" +
            std::to_string(summary.allocations_issued) + ",\"units_issued\":" +
            std::to_string(summary.units_issued.value()) +
            ",\"installations\":" +
            std::to_string(summary.installations_loaded) +
            ",\"emissions\":" + std::to_string(summary.emissions_loaded) + "}";
        return Status::Ok();
      });
  if (!s.ok()) {
    return s;
  }
  return summary;
}

}  // namespace carbonex::ledger
