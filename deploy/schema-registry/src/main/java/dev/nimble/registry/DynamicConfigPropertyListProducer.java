package dev.nimble.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

/**
 * The list of the registry's dynamic (runtime-editable) configuration properties. Apicurio's
 * config-index Quarkus extension builds it at build time; its deployment artifact is not on Maven
 * Central, so the list is empty: the registry runs with its static configuration.
 */
@ApplicationScoped
public class DynamicConfigPropertyListProducer {
  @Produces
  @ApplicationScoped
  DynamicConfigPropertyList dynamicConfigPropertyList() {
    return new DynamicConfigPropertyList(List.of());
  }
}
