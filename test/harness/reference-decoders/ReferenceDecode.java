import com.google.protobuf.CodedInputStream;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;

/**
 * Reads one record in the Confluent wire format with the reference libraries and prints it as
 * JSON: {"schemaId": n, ["messageIndexes": [...], "type": "..."], "record": {...}}.
 *
 *   avro     <schema.avsc> <record.bin>     Avro's JSON encoding of the record
 *   protobuf <schema.desc> <record.bin>     protobuf-java-util's JSON (proto field names);
 *                                           schema.desc from protoc --include_imports
 *
 * Fails (exit 1) on a wrong magic byte, bytes left over, or unknown Protobuf fields.
 */
public class ReferenceDecode {
    public static void main(String[] args) throws Exception {
        byte[] framed = Files.readAllBytes(Path.of(args[2]));
        ByteBuffer in = ByteBuffer.wrap(framed);
        if (in.get() != 0) throw new IllegalArgumentException("magic byte is not 0");
        int schemaId = in.getInt();
        int offset = in.position();
        String out = args[0].equals("avro") ? avro(Path.of(args[1]), framed, offset) : protobuf(Path.of(args[1]), framed, offset);
        System.out.println("{\"schemaId\":" + schemaId + "," + out + "}");
    }

    private static String avro(Path schemaFile, byte[] framed, int offset) throws Exception {
        Schema schema = new Schema.Parser().parse(Files.readString(schemaFile));
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(framed, offset, framed.length - offset, null);
        Object record = new GenericDatumReader<Object>(schema).read(null, decoder);
        if (!decoder.isEnd()) throw new IllegalStateException("bytes left after the Avro record");
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        JsonEncoder encoder = EncoderFactory.get().jsonEncoder(schema, json);
        new GenericDatumWriter<Object>(schema).write(record, encoder);
        encoder.flush();
        return "\"record\":" + json.toString("UTF-8");
    }

    private static String protobuf(Path descriptorFile, byte[] framed, int offset) throws Exception {
        FileDescriptorSet set = FileDescriptorSet.parseFrom(Files.readAllBytes(descriptorFile));
        Map<String, FileDescriptor> built = new HashMap<>();
        FileDescriptor file = null;
        for (FileDescriptorProto proto : set.getFileList()) {
            FileDescriptor[] dependencies = proto.getDependencyList().stream().map(built::get).toArray(FileDescriptor[]::new);
            file = FileDescriptor.buildFrom(proto, dependencies);
            built.put(proto.getName(), file);
        }
        CodedInputStream input = CodedInputStream.newInstance(framed, offset, framed.length - offset);
        // Confluent writes the message indexes as zigzag varints: protobuf's sint32.
        int count = input.readSInt32();
        List<Integer> indexes = new ArrayList<>();
        if (count == 0) indexes.add(0);
        for (int i = 0; i < count; i++) indexes.add(input.readSInt32());
        Descriptor type = file.getMessageTypes().get(indexes.get(0));
        for (int i = 1; i < indexes.size(); i++) type = type.getNestedTypes().get(indexes.get(i));
        DynamicMessage message = DynamicMessage.parseFrom(type, input);
        if (!message.getUnknownFields().asMap().isEmpty()) throw new IllegalStateException("unknown fields " + message.getUnknownFields());
        String json = JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace().print(message);
        return "\"messageIndexes\":" + indexes + ",\"type\":\"" + type.getFullName() + "\",\"record\":" + json;
    }
}
