package dev.bridge.test.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

/**
 * Stands in for the bean that the excluded config-index extension builds at augmentation time
 * (its deployment artifact is not on Maven Central): no setting can be changed at runtime.
 */
public class NoDynamicProperties {
    @Produces
    @ApplicationScoped
    DynamicConfigPropertyList none() {
        return new DynamicConfigPropertyList(List.of());
    }
}
