#include "core/metrics.h"

#include <cmath>
#include <cstdio>

namespace troupe {

MetricsRegistry::Entry* MetricsRegistry::find(const std::string& name) {
    for (Entry& e : m_entries) {
        if (e.name == name)
            return &e;
    }
    return nullptr;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help) {
    std::lock_guard lock(m_mutex);
    if (Entry* e = find(name))
        return e->counter;
    Entry& e = m_entries.emplace_back();
    e.name = name;
    e.help = help;
    e.kind = Entry::Kind::Counter;
    return e.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help) {
    std::lock_guard lock(m_mutex);
    if (Entry* e = find(name))
        return e->gauge;
    Entry& e = m_entries.emplace_back();
    e.name = name;
    e.help = help;
    e.kind = Entry::Kind::Gauge;
    return e.gauge;
}

void MetricsRegistry::callbackGauge(const std::string& name, const std::string& help,
                                    std::function<double()> read) {
    std::lock_guard lock(m_mutex);
    Entry* e = find(name);
    if (!e) {
        e = &m_entries.emplace_back();
        e->name = name;
    }
    e->help = help;
    e->kind = Entry::Kind::Callback;
    e->read = std::move(read);
}

std::string MetricsRegistry::renderPrometheus() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    char number[64];
    for (const Entry& e : m_entries) {
        const char* type = e.kind == Entry::Kind::Counter ? "counter" : "gauge";
        out += "# HELP " + e.name + " " + e.help + "\n";
        out += "# TYPE " + e.name + " " + type + "\n";
        switch (e.kind) {
        case Entry::Kind::Counter:
            std::snprintf(number, sizeof number, "%llu",
                          static_cast<unsigned long long>(e.counter.value()));
            break;
        case Entry::Kind::Gauge:
            std::snprintf(number, sizeof number, "%lld", static_cast<long long>(e.gauge.value()));
            break;
        case Entry::Kind::Callback: {
            double v = e.read ? e.read() : 0.0;
            if (std::isnan(v))
                std::snprintf(number, sizeof number, "NaN");
            else
                std::snprintf(number, sizeof number, "%.17g", v);
            break;
        }
        }
        out += e.name + " " + number + "\n";
    }
    return out;
}

MetricsRegistry& MetricsRegistry::global() {
    static MetricsRegistry registry;
    return registry;
}

} // namespace troupe
