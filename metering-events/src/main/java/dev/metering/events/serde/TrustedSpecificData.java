package dev.metering.events.serde;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Conversion;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Resolves the generated classes named by record, enum and fixed schemas, accepting only
 * generated Avro types ({@link SpecificRecord}, enums, {@link GenericFixed}).
 *
 * <p>Why: since 1.12.1 Avro refuses to load any class outside a trust list
 * ({@code org.apache.avro.SERIALIZABLE_PACKAGES}) when reading specific records, which would
 * make every application list our packages in a system property. Loading a class without
 * initialising it and checking that it is a generated Avro type is what that list protects, so
 * the serde does it here, scoped to its own readers, instead of changing the JVM-wide setting.
 */
final class TrustedSpecificData extends SpecificData {

    private static final Class<?> NOT_FOUND = Void.class;

    private final Map<String, Class<?>> classes = new ConcurrentHashMap<>();

    TrustedSpecificData(ClassLoader loader, Collection<Conversion<?>> conversions) {
        super(loader);
        conversions.forEach(this::addLogicalTypeConversion);
    }

    /** A model for reading {@code generated}, with its logical-type conversions (e.g. timestamp-millis). */
    static TrustedSpecificData forClass(Class<?> generated) {
        return new TrustedSpecificData(generated.getClassLoader(), SpecificData.getForClass(generated).getConversions());
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class getClass(Schema schema) {
        Schema.Type type = schema.getType();
        if (type != Schema.Type.RECORD && type != Schema.Type.ENUM && type != Schema.Type.FIXED) {
            return super.getClass(schema);
        }
        Class<?> resolved = classes.computeIfAbsent(schema.getFullName(), name -> load(schema));
        return resolved == NOT_FOUND ? null : resolved;
    }

    private Class<?> load(Schema schema) {
        String name = getClassName(schema);
        Class<?> loaded;
        try {
            loaded = Class.forName(name, false, getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return NOT_FOUND;
        }
        boolean generated = switch (schema.getType()) {
            case RECORD -> SpecificRecord.class.isAssignableFrom(loaded);
            case ENUM -> loaded.isEnum();
            default -> GenericFixed.class.isAssignableFrom(loaded);
        };
        if (!generated) {
            throw new AvroRuntimeException("class " + name + " named by schema " + schema.getFullName()
                    + " is not a generated Avro type");
        }
        return loaded;
    }
}
