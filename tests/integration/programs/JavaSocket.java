// java.net.Socket client for apps.bats: N connections to HOST PORT, each
// read until the server closes it; prints each local port.
//   java JavaSocket.java HOST PORT N
import java.io.InputStream;
import java.net.Socket;

public class JavaSocket {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[2]);
        for (int i = 0; i < n; i++) {
            try (Socket s = new Socket(args[0], Integer.parseInt(args[1]))) {
                System.out.println(s.getLocalPort());
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                }
            }
        }
    }
}
